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

#: the statements that make PostgreSQL enforce the grants (dat.core.roles documents them).
#: ``{schema}`` is the schema dat's tables are in, quoted. Every function runs with a fixed
#: search path that ends in pg_temp, so a login's temporary table named dat_grant cannot
#: stand in for the real one.
POSTGRES_UP = [
    # an admin: a superuser, the owner of the tables (who migrated them), or granted admin
    """CREATE OR REPLACE FUNCTION dat_is_admin() RETURNS boolean LANGUAGE sql STABLE
       SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
         SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = session_user AND rolsuper)
             OR session_user = (SELECT tableowner FROM pg_catalog.pg_tables WHERE tablename = 'observation'
                                  AND schemaname = {schema_literal})
             OR EXISTS (SELECT 1 FROM {schema}.dat_grant WHERE login = session_user AND role = 'admin')
       $$""",
    """CREATE OR REPLACE FUNCTION dat_can_edit(pid integer) RETURNS boolean LANGUAGE sql STABLE
       SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
         SELECT {schema}.dat_is_admin() OR EXISTS (SELECT 1 FROM {schema}.dat_grant
                WHERE login = session_user AND partnership_id = pid AND role IN ('editor', 'approver'))
       $$""",
    # the table privileges of a login, from its rows in dat_grant: run as the owner of the
    # tables (so every privilege is the owner's to give and to take back), by admins only
    """CREATE OR REPLACE FUNCTION dat_apply_privileges(who text) RETURNS text LANGUAGE plpgsql
       SECURITY DEFINER SET search_path = pg_catalog, {schema}, pg_temp AS $$
         DECLARE
           level text;
         BEGIN
           IF NOT {schema}.dat_is_admin() THEN
             RAISE EXCEPTION 'only a dat admin can change roles' USING ERRCODE = 'insufficient_privilege';
           END IF;
           SELECT CASE WHEN bool_or(role = 'admin') THEN 'admin'
                       WHEN bool_or(role IN ('editor', 'approver')) THEN 'editor'
                       WHEN count(*) > 0 THEN 'viewer' ELSE 'none' END
             INTO level FROM {schema}.dat_grant WHERE login = who;
           IF who = (SELECT tableowner FROM pg_catalog.pg_tables WHERE tablename = 'observation'
                     AND schemaname = {schema_literal}) THEN
             RETURN 'owner';  -- the owner keeps what it owns
           END IF;
           EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', {schema_literal}, who);
           EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', {schema_literal}, who);
           IF level = 'none' THEN
             RETURN level;
           END IF;
           EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', {schema_literal}, who);
           IF level = 'admin' THEN
             -- the rows, never the tables themselves: no TRIGGER, TRUNCATE or REFERENCES (a
             -- trigger of an admin's would run as whoever writes next, a superuser included)
             EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
                            {schema_literal}, who);
             EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', {schema_literal}, who);
             RETURN level;
           END IF;
           EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', {schema_literal}, who);
           IF level = 'editor' THEN
             -- figures are added, and a current one retired (is_current only): never rewritten
             EXECUTE format('GRANT INSERT, UPDATE (is_current) ON %I.observation TO %I', {schema_literal}, who);
             EXECUTE format('GRANT INSERT ON %I.audit TO %I', {schema_literal}, who);
             EXECUTE format('GRANT USAGE ON SEQUENCE %I.observation_id_seq, %I.audit_id_seq TO %I',
                            {schema_literal}, {schema_literal}, who);
           END IF;
           RETURN level;
         END $$""",
    "ALTER TABLE observation ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY dat_read ON observation FOR SELECT USING (true)",
    "CREATE POLICY dat_insert ON observation FOR INSERT WITH CHECK (dat_can_edit(partnership_id))",
    "CREATE POLICY dat_update ON observation FOR UPDATE USING (dat_can_edit(partnership_id)) "
    "WITH CHECK (dat_can_edit(partnership_id))",
    "CREATE POLICY dat_delete ON observation FOR DELETE USING (dat_is_admin())",
    # a retired revision stays retired: only an admin makes an old figure current again
    """CREATE OR REPLACE FUNCTION dat_guard_observation() RETURNS trigger LANGUAGE plpgsql
       SET search_path = pg_catalog, {schema}, pg_temp AS $$
         BEGIN
           IF NOT {schema}.dat_is_admin() THEN
             RAISE EXCEPTION 'only a dat admin can make an old revision current again'
               USING ERRCODE = 'insufficient_privilege';
           END IF;
           RETURN NEW;
         END $$""",
    "CREATE TRIGGER dat_guard_observation BEFORE UPDATE ON observation FOR EACH ROW "
    "WHEN (NEW.is_current AND NOT OLD.is_current) EXECUTE FUNCTION dat_guard_observation()",
    # the audit trail: editors add import rows only; nobody but an admin changes or deletes
    "ALTER TABLE audit ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY dat_audit_read ON audit FOR SELECT USING (true)",
    "CREATE POLICY dat_audit_insert ON audit FOR INSERT WITH CHECK (dat_is_admin() OR (action = 'import' AND "
    "(partnership IS NULL OR dat_can_edit((SELECT p.id FROM partnership p WHERE p.slug = audit.partnership)))))",
    "CREATE POLICY dat_audit_admin ON audit FOR UPDATE USING (dat_is_admin())",
    "CREATE POLICY dat_audit_delete ON audit FOR DELETE USING (dat_is_admin())",
    # nobody writes in another's name
    # (an admin's rows are left as written: `dat db copy` keeps who and when of the source)
    """CREATE OR REPLACE FUNCTION dat_stamp_audit() RETURNS trigger LANGUAGE plpgsql
       SET search_path = pg_catalog, {schema}, pg_temp AS $$
         BEGIN
           IF {schema}.dat_is_admin() THEN
             RETURN NEW;
           END IF;
           NEW.actor := session_user;
           NEW.at := (now() AT TIME ZONE 'utc');
           RETURN NEW;
         END $$""",
    # WHEN: the trigger runs only for a row that names someone else or another time (dat
    # itself writes the session user already, so a bulk import pays nothing for it)
    "CREATE TRIGGER dat_stamp_audit BEFORE INSERT ON audit FOR EACH ROW "
    "WHEN (NEW.actor IS DISTINCT FROM session_user OR NEW.at > (now() AT TIME ZONE 'utc') + interval '1 minute' "
    "OR NEW.at < (now() AT TIME ZONE 'utc') - interval '1 hour') "
    "EXECUTE FUNCTION dat_stamp_audit()",
    """CREATE OR REPLACE FUNCTION dat_stamp_observation() RETURNS trigger LANGUAGE plpgsql
       SET search_path = pg_catalog, {schema}, pg_temp AS $$
         BEGIN
           IF {schema}.dat_is_admin() THEN
             RETURN NEW;
           END IF;
           NEW.recorded_by := session_user;
           NEW.recorded_at := (now() AT TIME ZONE 'utc');
           RETURN NEW;
         END $$""",
    "CREATE TRIGGER dat_stamp_observation BEFORE INSERT ON observation FOR EACH ROW "
    "WHEN (NEW.recorded_by IS DISTINCT FROM session_user OR NEW.recorded_at > (now() AT TIME ZONE 'utc') "
    "+ interval '1 minute' OR NEW.recorded_at < (now() AT TIME ZONE 'utc') - interval '1 hour') "
    "EXECUTE FUNCTION dat_stamp_observation()",
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS dat_stamp_observation ON observation",
    "DROP FUNCTION IF EXISTS dat_stamp_observation()",
    "DROP TRIGGER IF EXISTS dat_stamp_audit ON audit",
    "DROP FUNCTION IF EXISTS dat_stamp_audit()",
    "DROP POLICY IF EXISTS dat_audit_delete ON audit",
    "DROP POLICY IF EXISTS dat_audit_admin ON audit",
    "DROP POLICY IF EXISTS dat_audit_insert ON audit",
    "DROP POLICY IF EXISTS dat_audit_read ON audit",
    "ALTER TABLE audit DISABLE ROW LEVEL SECURITY",
    "DROP TRIGGER IF EXISTS dat_guard_observation ON observation",
    "DROP FUNCTION IF EXISTS dat_guard_observation()",
    "DROP POLICY IF EXISTS dat_delete ON observation",
    "DROP POLICY IF EXISTS dat_update ON observation",
    "DROP POLICY IF EXISTS dat_insert ON observation",
    "DROP POLICY IF EXISTS dat_read ON observation",
    "ALTER TABLE observation DISABLE ROW LEVEL SECURITY",
    "DROP FUNCTION IF EXISTS dat_apply_privileges(text)",
    "DROP FUNCTION IF EXISTS dat_can_edit(integer)",
    "DROP FUNCTION IF EXISTS dat_is_admin()",
]


def _postgres(statements: list[str]) -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    quoted = bind.dialect.identifier_preparer.quote(schema)
    literal = "'" + schema.replace("'", "''") + "'"
    for statement in statements:
        op.execute(statement.replace("{schema_literal}", literal).replace("{schema}", quoted))


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
    # one current revision per figure: a second current row for the same key is refused
    op.create_index('uq_observation_current', 'observation', ['partnership_id', 'indicator_id', 'period'],
                    unique=True, postgresql_where=sa.text('is_current'), sqlite_where=sa.text('is_current = 1'))
    if op.get_bind().dialect.name == "postgresql":
        _postgres(POSTGRES_UP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres(POSTGRES_DOWN)
    op.drop_index('uq_observation_current', table_name='observation')
    op.drop_index('ix_dat_grant_login', table_name='dat_grant')
    op.drop_table('dat_grant')
