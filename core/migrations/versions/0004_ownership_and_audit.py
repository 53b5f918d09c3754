"""Ownership and the audit trail

partnership.reference marks a partnership a plugin only names (a comparator or neighbour);
partnership.plugin is then the plugin that names it, and otherwise its owner.
observation.recorded_by is who wrote each revision. audit records every write: who, when,
what and from where.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partnership') as batch:
        batch.add_column(sa.Column('reference', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('observation') as batch:
        batch.add_column(sa.Column('recorded_by', sa.String(length=100), nullable=True))
    op.create_table(
        'audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('partnership', sa.String(length=40), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('source', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_at', 'audit', ['at'])
    op.create_index('ix_audit_partnership_at', 'audit', ['partnership', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_partnership_at', table_name='audit')
    op.drop_index('ix_audit_at', table_name='audit')
    op.drop_table('audit')
    with op.batch_alter_table('observation') as batch:
        batch.drop_column('recorded_by')
    with op.batch_alter_table('partnership') as batch:
        batch.drop_column('reference')
