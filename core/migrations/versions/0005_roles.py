"""Roles enforced by PostgreSQL: dat_grant and row-level security

dat_grant records who is viewer, editor or approver of which partnership, and who is an
admin. On PostgreSQL the database enforces it: observation has row-level security so that
an editor can insert or update only the figures of partnerships they edit, whatever client
they use; triggers stamp audit rows and figures with the session user so nobody can write
in another's name. SQLite has one user: the table is created and ignored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 21:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: the statements that make PostgreSQL enforce the grants (dat.core.roles documents them)
POSTGRES_UP = [
    # an admin: a superuser, the owner of the tables (who migrated them), or granted admin
    """CREATE OR REPLACE FUNCTION dat_is_admin() RETURNS boolean LANGUAGE sql STABLE
       SECURITY DEFINER SET search_path FROM CURRENT AS $$
         SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = session_user AND rolsuper)
             OR session_user = (SELECT tableowner FROM pg_tables WHERE tablename = 'observation'
                                  AND schemaname = current_schema())
             OR EXISTS (SELECT 1 FROM dat_grant WHERE login = session_user AND role = 'admin')
       $$""",
    """CREATE OR REPLACE FUNCTION dat_can_edit(pid integer) RETURNS boolean LANGUAGE sql STABLE
       SECURITY DEFINER SET search_path FROM CURRENT AS $$
         SELECT dat_is_admin() OR EXISTS (SELECT 1 FROM dat_grant WHERE login = session_user
                AND partnership_id = pid AND role IN ('editor', 'approver'))
       $$""",
    "ALTER TABLE observation ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY dat_read ON observation FOR SELECT USING (true)",
    "CREATE POLICY dat_insert ON observation FOR INSERT WITH CHECK (dat_can_edit(partnership_id))",
    "CREATE POLICY dat_update ON observation FOR UPDATE USING (dat_can_edit(partnership_id)) "
    "WITH CHECK (dat_can_edit(partnership_id))",
    "CREATE POLICY dat_delete ON observation FOR DELETE USING (dat_is_admin())",
    # nobody writes in another's name
    """CREATE OR REPLACE FUNCTION dat_stamp_audit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           NEW.actor := session_user;
           NEW.at := (now() AT TIME ZONE 'utc');
           RETURN NEW;
         END $$""",
    # WHEN: the trigger runs only for a row that names someone else (dat itself writes the
    # session user already, so a bulk import pays nothing for it)
    "CREATE TRIGGER dat_stamp_audit BEFORE INSERT ON audit FOR EACH ROW "
    "WHEN (NEW.actor IS DISTINCT FROM session_user OR NEW.at > (now() AT TIME ZONE 'utc') + interval '1 minute' "
    "OR NEW.at < (now() AT TIME ZONE 'utc') - interval '1 hour') "
    "EXECUTE FUNCTION dat_stamp_audit()",
    """CREATE OR REPLACE FUNCTION dat_stamp_observation() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           NEW.recorded_by := session_user;
           RETURN NEW;
         END $$""",
    "CREATE TRIGGER dat_stamp_observation BEFORE INSERT ON observation FOR EACH ROW "
    "WHEN (NEW.recorded_by IS DISTINCT FROM session_user) EXECUTE FUNCTION dat_stamp_observation()",
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS dat_stamp_observation ON observation",
    "DROP FUNCTION IF EXISTS dat_stamp_observation()",
    "DROP TRIGGER IF EXISTS dat_stamp_audit ON audit",
    "DROP FUNCTION IF EXISTS dat_stamp_audit()",
    "DROP POLICY IF EXISTS dat_delete ON observation",
    "DROP POLICY IF EXISTS dat_update ON observation",
    "DROP POLICY IF EXISTS dat_insert ON observation",
    "DROP POLICY IF EXISTS dat_read ON observation",
    "ALTER TABLE observation DISABLE ROW LEVEL SECURITY",
    "DROP FUNCTION IF EXISTS dat_can_edit(integer)",
    "DROP FUNCTION IF EXISTS dat_is_admin()",
]


def upgrade() -> None:
    op.create_table(
        'dat_grant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('login', sa.String(length=100), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('granted_by', sa.String(length=100), nullable=False),
        sa.Column('granted_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('login', 'partnership_id', 'role', name='uq_grant'),
    )
    op.create_index('ix_dat_grant_login', 'dat_grant', ['login'])
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    op.drop_index('ix_dat_grant_login', table_name='dat_grant')
    op.drop_table('dat_grant')
