"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 04:25:41.571844
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sf_analytics_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("graph_id", sa.String(length=36), nullable=True),
        sa.Column("trigger_type", sa.String(length=60), nullable=True),
        sa.Column("action_type", sa.String(length=60), nullable=True),
        sa.Column(
            "properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_analytics_events")),
    )
    with op.batch_alter_table("sf_analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_sf_analytics_events_name_at", ["name", "at"], unique=False)

    op.create_table(
        "sf_audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_audit_entries")),
        comment="append-only: database triggers refuse UPDATE and DELETE",
    )
    with op.batch_alter_table("sf_audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_sf_audit_entries_at", ["at"], unique=False)

    op.create_table(
        "sf_engines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("program_version", sa.String(length=40), nullable=False),
        sa.Column("started_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_beat_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_engines")),
    )
    op.create_table(
        "sf_locks",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sf_locks")),
        comment="e.g. the single engine allowed on one SQLite file",
    )
    op.create_table(
        "sf_record_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("key_column", sa.String(length=128), nullable=False),
        sa.Column("status_column", sa.String(length=128), nullable=False),
        sa.Column("label_table", sa.String(length=128), nullable=True),
        sa.Column("label_key_column", sa.String(length=128), nullable=True),
        sa.Column("label_column", sa.String(length=128), nullable=True),
        sa.Column(
            "display_columns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="columns shown to people",
        ),
        sa.Column(
            "watched_columns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="'field changed' events",
        ),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="introspected columns and types",
        ),
        sa.Column("created_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_record_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sf_record_sources_name")),
    )
    op.create_table(
        "sf_settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sf_settings")),
    )
    op.create_table(
        "sf_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "password_hash",
            sa.String(length=400),
            nullable=True,
            comment="hashlib scrypt/pbkdf2, salted; never plain",
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_users")),
        sa.UniqueConstraint("username", name=op.f("uq_sf_users_username")),
    )
    op.create_table(
        "sf_write_context",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("depth", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_write_context")),
        comment="SQLite only: the run whose write is in progress, read by the event triggers; PostgreSQL uses transaction-local settings instead",
    )
    op.create_table(
        "sf_graphs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column(
            "draft",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="the editable StatusFlow JSON document",
        ),
        sa.Column(
            "draft_updated_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("draft_updated_by", sa.String(length=80), nullable=True),
        sa.Column(
            "current_version_id",
            sa.String(length=36),
            nullable=True,
            comment="the published version, if any",
        ),
        sa.Column(
            "draft_test_run",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="the last test run of the draft",
        ),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sf_record_sources.id"],
            name=op.f("fk_sf_graphs_source_id_sf_record_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_graphs")),
        sa.UniqueConstraint("name", name=op.f("uq_sf_graphs_name")),
    )
    op.create_table(
        "sf_status_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sf_record_sources.id"],
            name=op.f("fk_sf_status_codes_source_id_sf_record_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_status_codes")),
        sa.UniqueConstraint("source_id", "code", name="uq_sf_status_codes_source_code"),
    )
    op.create_table(
        "sf_archived_records",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("archived_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "run_id",
            sa.String(length=36),
            nullable=True,
            comment="the run whose archive step did it",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sf_record_sources.id"],
            name=op.f("fk_sf_archived_records_source_id_sf_record_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "record_key", name=op.f("pk_sf_archived_records")),
        comment="records no graph starts on any more",
    )
    op.create_table(
        "sf_status_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="status | label | label_removed | created | field",
        ),
        sa.Column(
            "field",
            sa.String(length=128),
            nullable=True,
            comment="the column (or label) that changed",
        ),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("occurred_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "caused_by_run_id",
            sa.String(length=36),
            nullable=True,
            comment="set when an engine write caused it",
        ),
        sa.Column("causation_depth", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("processed_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("processed_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "kind IN ('status', 'label', 'label_removed', 'created', 'field')",
            name=op.f("ck_sf_status_events_known_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sf_record_sources.id"],
            name=op.f("fk_sf_status_events_source_id_sf_record_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_status_events")),
    )
    with op.batch_alter_table("sf_status_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sf_status_events_record", ["source_id", "record_key"], unique=False
        )
        batch_op.create_index(
            "ix_sf_status_events_unprocessed",
            ["id"],
            unique=False,
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )

    op.create_table(
        "sf_user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('designer', 'publisher', 'operator', 'admin')",
            name=op.f("ck_sf_user_roles_known_role"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["sf_users.id"],
            name=op.f("fk_sf_user_roles_user_id_sf_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_sf_user_roles")),
    )
    op.create_table(
        "sf_graph_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("graph_id", sa.String(length=36), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="immutable once submitted",
        ),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("submitted_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change_note", sa.Text(), server_default="", nullable=False),
        sa.Column("reviewer", sa.String(length=80), nullable=True),
        sa.Column("reviewed_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("published_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=80), nullable=True),
        sa.Column(
            "last_test_run",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="verdict and timeline of the last test run",
        ),
        sa.CheckConstraint(
            "state IN ('in_review', 'approved', 'published', 'superseded', 'rejected')",
            name=op.f("ck_sf_graph_versions_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["graph_id"],
            ["sf_graphs.id"],
            name=op.f("fk_sf_graph_versions_graph_id_sf_graphs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_graph_versions")),
        sa.UniqueConstraint("graph_id", "major", "minor", name="uq_sf_graph_versions_number"),
    )
    op.create_table(
        "sf_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("graph_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column(
            "trigger_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("trigger_node_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("causation_depth", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "start_snapshot",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="the record when it started",
        ),
        sa.Column(
            "enrollment_key",
            sa.String(length=300),
            nullable=True,
            comment="graph + record while active; NULL after: one active run per graph and record",
        ),
        sa.Column(
            "started_by", sa.String(length=80), nullable=True, comment="user for manual starts"
        ),
        sa.Column("started_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('active', 'succeeded', 'succeeded_compensated', 'cancelled', 'failed', 'stopped_loop_guard')",
            name=op.f("ck_sf_runs_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["graph_id"], ["sf_graphs.id"], name=op.f("fk_sf_runs_graph_id_sf_graphs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sf_record_sources.id"],
            name=op.f("fk_sf_runs_source_id_sf_record_sources"),
        ),
        sa.ForeignKeyConstraint(
            ["trigger_event_id"],
            ["sf_status_events.id"],
            name=op.f("fk_sf_runs_trigger_event_id_sf_status_events"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["sf_graph_versions.id"],
            name=op.f("fk_sf_runs_version_id_sf_graph_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_runs")),
        sa.UniqueConstraint("enrollment_key", name=op.f("uq_sf_runs_enrollment_key")),
        sa.UniqueConstraint("version_id", "trigger_event_id", name="uq_sf_runs_version_event"),
    )
    with op.batch_alter_table("sf_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sf_runs_graph_state", ["graph_id", "state"], unique=False)
        batch_op.create_index(
            "ix_sf_runs_record", ["source_id", "record_key", "started_at"], unique=False
        )

    op.create_table(
        "sf_run_steps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.String(length=36), nullable=True),
        sa.Column("node_type", sa.String(length=60), nullable=True),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="trigger | condition | wait | action | retry | task | cancel | note | outcome",
        ),
        sa.Column(
            "summary", sa.Text(), nullable=False, comment="one plain sentence for the timeline"
        ),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="rendered email, HTTP status, chosen branch...",
        ),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("error_class", sa.String(length=60), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("engine_id", sa.String(length=36), nullable=True),
        sa.Column("at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sf_runs.id"],
            name=op.f("fk_sf_run_steps_run_id_sf_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_run_steps")),
    )
    with op.batch_alter_table("sf_run_steps", schema=None) as batch_op:
        batch_op.create_index("ix_sf_run_steps_run", ["run_id", "id"], unique=False)

    op.create_table(
        "sf_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("node_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("instructions", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "checklist",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="documents or steps required",
        ),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="error, record fields, failing action",
        ),
        sa.Column("assignee_user", sa.String(length=80), nullable=True),
        sa.Column("assignee_role", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.String(length=20), server_default="not_started", nullable=False),
        sa.Column("due_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('approval', 'compensation', 'follow_up', 'alert')",
            name=op.f("ck_sf_tasks_known_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'approved', 'rejected', 'done', 'abandoned', 'escalated', 'cancelled')",
            name=op.f("ck_sf_tasks_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sf_runs.id"], name=op.f("fk_sf_tasks_run_id_sf_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_tasks")),
    )
    with op.batch_alter_table("sf_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sf_tasks_open", ["state", "assignee_role", "assignee_user"], unique=False
        )

    op.create_table(
        "sf_work_items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("node_id", sa.String(length=36), nullable=False),
        sa.Column(
            "record_lock",
            sa.String(length=300),
            nullable=False,
            comment="source:key; one item at a time",
        ),
        sa.Column("due_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.String(length=20),
            nullable=False,
            comment="pending | claimed | done | cancelled",
        ),
        sa.Column("attempt", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_owner", sa.String(length=36), nullable=True),
        sa.Column(
            "lease_expires_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="what the node needs from the step before",
        ),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", engine.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", engine.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'claimed', 'done', 'cancelled')",
            name=op.f("ck_sf_work_items_known_state"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sf_runs.id"],
            name=op.f("fk_sf_work_items_run_id_sf_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sf_work_items")),
    )
    with op.batch_alter_table("sf_work_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sf_work_items_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.create_index("ix_sf_work_items_lease", ["state", "lease_expires_at"], unique=False)
        batch_op.create_index("ix_sf_work_items_run", ["run_id"], unique=False)

    _append_only_audit()
    op.execute("INSERT INTO sf_write_context (id, run_id, depth) VALUES (1, NULL, 0)")


def _append_only_audit() -> None:
    """No service, and no hand-written UPDATE, can change or remove an audit entry."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER sf_audit_entries_no_{verb.lower()} BEFORE {verb} "
                "ON sf_audit_entries BEGIN "
                "SELECT RAISE(ABORT, 'audit entries are append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION sf_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER sf_audit_entries_append_only BEFORE UPDATE OR DELETE "
        "ON sf_audit_entries FOR EACH ROW EXECUTE FUNCTION sf_audit_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER sf_audit_entries_append_only ON sf_audit_entries")
        op.execute("DROP FUNCTION sf_audit_append_only()")
    with op.batch_alter_table("sf_work_items", schema=None) as batch_op:
        batch_op.drop_index("ix_sf_work_items_run")
        batch_op.drop_index("ix_sf_work_items_lease")
        batch_op.drop_index(
            "ix_sf_work_items_due",
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    op.drop_table("sf_work_items")
    with op.batch_alter_table("sf_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_sf_tasks_open")

    op.drop_table("sf_tasks")
    with op.batch_alter_table("sf_run_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_sf_run_steps_run")

    op.drop_table("sf_run_steps")
    with op.batch_alter_table("sf_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_sf_runs_record")
        batch_op.drop_index("ix_sf_runs_graph_state")

    op.drop_table("sf_runs")
    op.drop_table("sf_graph_versions")
    op.drop_table("sf_user_roles")
    with op.batch_alter_table("sf_status_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_sf_status_events_unprocessed",
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )
        batch_op.drop_index("ix_sf_status_events_record")

    op.drop_table("sf_status_events")
    op.drop_table("sf_archived_records")
    op.drop_table("sf_status_codes")
    op.drop_table("sf_graphs")
    op.drop_table("sf_write_context")
    op.drop_table("sf_users")
    op.drop_table("sf_settings")
    op.drop_table("sf_record_sources")
    op.drop_table("sf_locks")
    op.drop_table("sf_engines")
    with op.batch_alter_table("sf_audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_sf_audit_entries_at")

    op.drop_table("sf_audit_entries")
    with op.batch_alter_table("sf_analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sf_analytics_events_name_at")

    op.drop_table("sf_analytics_events")
