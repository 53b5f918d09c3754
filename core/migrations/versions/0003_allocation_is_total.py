"""allocation.is_total: a line that is the document's own total of all sources

Cheshire's paper gives "about £6m" commissioned in all and itemises some streams within it;
summing every line counted those streams twice. A line flagged is_total is the year's total
and the other lines are parts of it (services.funding).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('allocation') as batch:
        batch.add_column(sa.Column('is_total', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('allocation') as batch:
        batch.drop_column('is_total')
