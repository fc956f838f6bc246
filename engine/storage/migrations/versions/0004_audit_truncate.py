"""audit truncate: the audit log refuses TRUNCATE on PostgreSQL

The audit log is append-only: row triggers refuse UPDATE and DELETE (0001), but
row triggers do not fire for TRUNCATE, which would empty the table in one statement.
A statement trigger refuses it with the same function, so every attempt reads the
same sentence. SQLite has no TRUNCATE (it is a DELETE there, already refused).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER sf_audit_entries_no_truncate BEFORE TRUNCATE "
            "ON sf_audit_entries FOR EACH STATEMENT EXECUTE FUNCTION sf_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sf_audit_entries_no_truncate ON sf_audit_entries")
