"""observation: index (partnership_id, period, is_current) instead of (partnership_id, period)

The scorecard, ``dat status`` and the TUI's first screen ask which periods a partnership has
current figures for, and fetch one period's current figures. With ``is_current`` in the index
those questions are answered from the index alone; on the national dataset (8,000 figures a
partnership) that saves a table read per figure. Measured by bench/ (docs/performance.md).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:20:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_observation_partnership', table_name='observation')
    op.create_index('ix_observation_partnership_current', 'observation',
                    ['partnership_id', 'period', 'is_current'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_observation_partnership_current', table_name='observation')
    op.create_index('ix_observation_partnership', 'observation', ['partnership_id', 'period'], unique=False)
