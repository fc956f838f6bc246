"""person guards: on PostgreSQL the database itself refuses what a person's role may not do

When people connect with logins of their own (members of ``statusflow_person``, made
by ``statusflow db roles`` and ``statusflow user add``), triggers check each change to
versions, graphs, tasks, accounts, settings and the audit log against ``session_user``:
a designer running raw SQL cannot publish, approve their own version, decide someone
else's task or write an audit entry in another's name. The people named in a row
(author, reviewer, publisher, decider, audit actor) are taken from ``session_user``.

Logins that are not people (the database owner, engines) pass: the services check
them. Row-level security cannot compare a row's old and new values, which every rule
here needs (a state that moves, a decider that must be the assignee), so these are
row triggers. Until the roles exist nothing changes. SQLite: nothing (one person).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 23:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

REFUSE = "RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = "

FUNCTIONS = [
    # The person acting, or NULL for a login that is not a person's own: a superuser
    # (a member of every role to pg_has_role), or any login while this database has
    # no person roles granted ('statusflow db roles' not run here).
    """
CREATE FUNCTION sf_person() RETURNS text LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'statusflow_person')
              AND has_schema_privilege('statusflow_person', current_schema(), 'USAGE')
              AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
              AND pg_has_role(session_user, 'statusflow_person', 'MEMBER')
         THEN session_user::text END
$$""",
    # Whether the person holds a StatusFlow role (admins hold every one).
    """
CREATE FUNCTION sf_holds(wanted text) RETURNS boolean LANGUAGE sql STABLE
SET search_path FROM CURRENT AS $$
  SELECT pg_has_role(session_user, 'statusflow_admin', 'MEMBER')
      OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'statusflow_' || wanted)
          AND pg_has_role(session_user, 'statusflow_' || wanted, 'MEMBER'))
$$""",
    f"""
CREATE FUNCTION sf_guard_versions() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
  who text := sf_person();
  relaxed boolean;
BEGIN
  IF who IS NULL THEN RETURN NEW; END IF;
  IF TG_OP = 'INSERT' THEN
    IF NOT sf_holds('designer') THEN
      {REFUSE} format('%s may not submit a version: that needs the designer role.', who);
    END IF;
    NEW.author := who;
    RETURN NEW;
  END IF;
  IF NEW.document IS DISTINCT FROM OLD.document OR NEW.author IS DISTINCT FROM OLD.author
     OR NEW.graph_id IS DISTINCT FROM OLD.graph_id OR NEW.major <> OLD.major
     OR NEW.minor <> OLD.minor THEN
    {REFUSE} 'A submitted version is frozen: its graph, author and number cannot change.';
  END IF;
  IF NEW.state IS NOT DISTINCT FROM OLD.state THEN
    IF NEW.reviewer IS DISTINCT FROM OLD.reviewer
       OR NEW.published_by IS DISTINCT FROM OLD.published_by THEN
      {REFUSE} 'Who reviewed or published a version is recorded by StatusFlow, not set by hand.';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.state IN ('approved', 'rejected') THEN
    IF NOT sf_holds('publisher') THEN
      {REFUSE} format('%s may not review versions: that needs the publisher role.', who);
    END IF;
    IF OLD.state <> 'in_review' THEN
      {REFUSE} format('The version is %s, not in review.', OLD.state);
    END IF;
    SELECT value::text = 'true' INTO relaxed FROM sf_settings
      WHERE key = 'engine.four_eyes_relaxed';
    IF NEW.state = 'approved' AND lower(OLD.author) = who AND NOT coalesce(relaxed, false) THEN
      {REFUSE} format('%s wrote this version, so someone else must approve it (four-eyes rule).', who);
    END IF;
    NEW.reviewer := who;
  ELSIF NEW.state = 'published' THEN
    IF NOT sf_holds('publisher') THEN
      {REFUSE} format('%s may not publish: that needs the publisher role.', who);
    END IF;
    IF OLD.state NOT IN ('approved', 'superseded') THEN
      {REFUSE} format('The version is %s; only an approved version can be published.', OLD.state);
    END IF;
    NEW.published_by := who;
  ELSIF NEW.state = 'superseded' AND OLD.state = 'published' THEN
    IF NOT sf_holds('publisher') THEN
      {REFUSE} format('%s may not publish: that needs the publisher role.', who);
    END IF;
  ELSE
    {REFUSE} format('A version cannot go from %s to %s.', OLD.state, NEW.state);
  END IF;
  RETURN NEW;
END $$""",
    f"""
CREATE FUNCTION sf_guard_graphs() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE who text := sf_person();
BEGIN
  IF who IS NULL THEN RETURN NEW; END IF;
  IF TG_OP = 'UPDATE' AND (NEW.enabled IS DISTINCT FROM OLD.enabled
     OR NEW.current_version_id IS DISTINCT FROM OLD.current_version_id) THEN
    IF NOT sf_holds('publisher') THEN
      {REFUSE} format('%s may not publish, enable or disable graphs: that needs the publisher role.', who);
    END IF;
    IF NEW.current_version_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM sf_graph_versions v WHERE v.id = NEW.current_version_id
           AND v.graph_id = NEW.id AND v.state = 'published') THEN
      {REFUSE} 'A graph''s current version must be its published version.';
    END IF;
  ELSIF NOT sf_holds('designer') THEN
    {REFUSE} format('%s may not edit graphs: that needs the designer role.', who);
  END IF;
  RETURN NEW;
END $$""",
    f"""
CREATE FUNCTION sf_guard_tasks() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE who text := sf_person();
BEGIN
  IF who IS NULL OR TG_OP = 'INSERT' THEN RETURN NEW; END IF;
  IF NEW.assignee_user IS DISTINCT FROM OLD.assignee_user
     OR NEW.assignee_role IS DISTINCT FROM OLD.assignee_role THEN
    IF NOT sf_holds('admin') THEN
      {REFUSE} format('%s may not reassign tasks: that needs the admin role.', who);
    END IF;
    RETURN NEW;
  END IF;
  IF NOT (sf_holds('admin')
          OR (OLD.assignee_user IS NOT NULL AND lower(OLD.assignee_user) = who)
          OR (OLD.assignee_user IS NULL AND OLD.assignee_role IS NOT NULL
              AND sf_holds(OLD.assignee_role))
          OR (OLD.assignee_user IS NULL AND OLD.assignee_role IS NULL
              AND (sf_holds('operator') OR sf_holds('designer') OR sf_holds('publisher')))) THEN
    {REFUSE} format('Task %s is not %s''s to work: it is for %s.', OLD.id, who,
                    coalesce(OLD.assignee_user, 'the ' || OLD.assignee_role || ' role'));
  END IF;
  IF OLD.state <> 'open' THEN
    {REFUSE} format('Task %s is already %s.', OLD.id, OLD.state);
  END IF;
  IF NEW.state IS DISTINCT FROM OLD.state OR NEW.decided_by IS DISTINCT FROM OLD.decided_by THEN
    NEW.decided_by := who;
  END IF;
  RETURN NEW;
END $$""",
    f"""
CREATE FUNCTION sf_guard_admin_only() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE who text := sf_person();
BEGIN
  IF who IS NOT NULL AND NOT sf_holds('admin') THEN
    {REFUSE} format('%s may not change %s: that needs the admin role.', who, TG_ARGV[0]);
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$""",
    f"""
CREATE FUNCTION sf_guard_settings() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE who text := sf_person();
BEGIN
  IF who IS NULL THEN RETURN NEW; END IF;
  IF NEW.key = 'engine.published_generation' THEN
    IF NOT sf_holds('publisher') THEN
      {REFUSE} format('%s may not publish: that needs the publisher role.', who);
    END IF;
  ELSIF NOT sf_holds('admin') THEN
    {REFUSE} format('%s may not change settings: that needs the admin role.', who);
  END IF;
  NEW.updated_by := who;
  RETURN NEW;
END $$""",
    """
CREATE FUNCTION sf_guard_audit() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE who text := sf_person();
BEGIN
  IF who IS NOT NULL THEN NEW.actor := who; END IF;
  RETURN NEW;
END $$""",
]

TRIGGERS = [
    ("sf_graph_versions", "INSERT OR UPDATE", "sf_guard_versions()"),
    ("sf_graphs", "INSERT OR UPDATE", "sf_guard_graphs()"),
    ("sf_tasks", "INSERT OR UPDATE", "sf_guard_tasks()"),
    ("sf_users", "INSERT OR UPDATE OR DELETE", "sf_guard_admin_only('accounts')"),
    ("sf_user_roles", "INSERT OR UPDATE OR DELETE", "sf_guard_admin_only('roles')"),
    ("sf_record_sources", "INSERT OR UPDATE OR DELETE", "sf_guard_admin_only('record sources')"),
    ("sf_settings", "INSERT OR UPDATE", "sf_guard_settings()"),
    ("sf_audit_entries", "INSERT", "sf_guard_audit()"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        op.execute(function)
    for table, events, call in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_person_guard BEFORE {events} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {call}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_person_guard ON {table}")
    for name in ("sf_guard_audit", "sf_guard_settings", "sf_guard_admin_only", "sf_guard_tasks",
                 "sf_guard_graphs", "sf_guard_versions"):  # fmt: skip
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP FUNCTION sf_holds(text)")
    op.execute("DROP FUNCTION sf_person()")
