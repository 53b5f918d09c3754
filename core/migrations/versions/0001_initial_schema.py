"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 15:11:31.492237
"""  # noqa: W291 - as Alembic wrote it (alembic history -v shows this text)
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('funding_stream',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('funders', sa.Text(), nullable=False),
    sa.Column('ring_fenced', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('funding_stream', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_stream_code'), ['code'], unique=True)

    op.create_table('indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('polarity', sa.String(length=10), nullable=False),
    sa.Column('framework', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('numerator', sa.Text(), nullable=True),
    sa.Column('denominator', sa.Text(), nullable=True),
    sa.Column('per', sa.Integer(), nullable=True),
    sa.Column('tolerance', sa.Float(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_code'), ['code'], unique=True)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('partnership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('area_type', sa.String(length=40), nullable=False),
    sa.Column('comparator_group', sa.String(length=100), nullable=True),
    sa.Column('accountable_bodies', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partnership_slug'), ['slug'], unique=True)

    op.create_table('action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('theme', sa.Text(), nullable=True),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('lead', sa.Text(), nullable=True),
    sa.Column('target_text', sa.Text(), nullable=True),
    sa.Column('targets', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('due', sa.String(length=32), nullable=True),
    sa.Column('milestones', sa.Text(), nullable=False),
    sa.Column('dependencies', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'ref', name='uq_action_key')
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.String(length=16), nullable=False),
    sa.Column('line', sa.String(length=60), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('banked_by', sa.String(length=100), nullable=True),
    sa.Column('used_for', sa.Text(), nullable=True),
    sa.Column('approximate', sa.Boolean(), nullable=False),
    sa.Column('management_admin', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['stream_id'], ['funding_stream.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'stream_id', 'year', 'line', name='uq_allocation_key')
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocation_stream_id'), ['stream_id'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('numerator', sa.Float(), nullable=True),
    sa.Column('denominator', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('rag', sa.String(length=1), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('commentary', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=200), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'indicator_id', 'period', 'revision', name='uq_observation_revision')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_current', ['indicator_id', 'period', 'is_current'], unique=False)
        batch_op.create_index('ix_observation_partnership', ['partnership_id', 'period'], unique=False)

    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('target_kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('value_kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('baseline_period', sa.String(length=32), nullable=True),
    sa.Column('years', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('profile', sa.String(length=200), nullable=True),
    sa.Column('tolerance', sa.Float(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('plugin', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'indicator_id', 'period', 'target_kind', 'label', name='uq_target_key')
    )
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_partnership_id'), ['partnership_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_target_indicator_id'))

    op.drop_table('target')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_partnership')
        batch_op.drop_index('ix_observation_current')

    op.drop_table('observation')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_stream_id'))
        batch_op.drop_index(batch_op.f('ix_allocation_partnership_id'))

    op.drop_table('allocation')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_partnership_id'))

    op.drop_table('action')
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_slug'))
        batch_op.drop_index(batch_op.f('ix_partnership_parent_id'))

    op.drop_table('partnership')
    op.drop_table('meta')
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_code'))

    op.drop_table('indicator')
    with op.batch_alter_table('funding_stream', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_stream_code'))

    op.drop_table('funding_stream')
