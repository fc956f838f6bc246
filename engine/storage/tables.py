"""The StatusFlow tables: one per concept in DESIGN.md.

Every state change is a row here. The tables are SQLAlchemy Core tables because the
engine's hot paths (claiming events and work items with row locks) are written as
explicit SQL; services compose the same tables. The schema itself is owned by the
Alembic migrations in ``migrations/``; a test keeps the two identical.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)

from engine.storage.types import JSONDocument, UTCDateTime, UUIDString

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

ROLES = ("designer", "publisher", "operator", "admin")

# Autoincrementing 64-bit keys on PostgreSQL, plain INTEGER PRIMARY KEY (rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _created() -> Column:
    return Column("created_at", UTCDateTime(), nullable=False)


# -- people -------------------------------------------------------------------------

users = Table(
    "sf_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("email", String(320)),
    Column("password_hash", String(400), comment="hashlib scrypt/pbkdf2, salted; never plain"),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    _created(),
)

user_roles = Table(
    "sf_user_roles",
    metadata,
    Column("user_id", ForeignKey("sf_users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), primary_key=True),
    CheckConstraint(f"role IN ({', '.join(repr(r) for r in ROLES)})", name="known_role"),
)

settings = Table(
    "sf_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSONDocument, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(80)),
)

# -- record sources -----------------------------------------------------------------

record_sources = Table(
    "sf_record_sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("table_name", String(128), nullable=False),
    Column("key_column", String(128), nullable=False),
    Column("status_column", String(128), nullable=False),
    Column("label_table", String(128)),
    Column("label_key_column", String(128)),
    Column("label_column", String(128)),
    Column("display_columns", JSONDocument, nullable=False, comment="columns shown to people"),
    Column("watched_columns", JSONDocument, nullable=False, comment="'field changed' events"),
    Column("fields", JSONDocument, nullable=False, comment="introspected columns and types"),
    _created(),
    Column("created_by", String(80)),
    Column("capture", String(10), nullable=False, server_default=text("'trigger'")),
    Column("changed_column", String(128), comment="poll capture: the host's changed-at column"),
    Column("poll_seconds", Float, comment="poll capture: seconds between polls"),
    Column(
        "host_url",
        String(500),
        comment="the host database when it is not StatusFlow's own; never with a password",
    ),
    CheckConstraint("capture IN ('trigger', 'poll')", name="known_capture"),
)

poll_states = Table(
    "sf_poll_states",
    metadata,
    Column("source_id", ForeignKey("sf_record_sources.id", ondelete="CASCADE"), primary_key=True),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("polled_at", UTCDateTime()),
    Column("high_water", String(40), comment="the newest changed-at value seen, ISO text"),
    comment="poll capture: when each source is polled next, and how far it has read",
)

poll_snapshots = Table(
    "sf_poll_snapshots",
    metadata,
    Column("source_id", ForeignKey("sf_record_sources.id", ondelete="CASCADE"), primary_key=True),
    Column("record_key", String(200), primary_key=True),
    Column("seen", JSONDocument, nullable=False, comment="status, watched fields and labels"),
    comment="poll capture: each record as the last poll saw it, to tell what changed",
)

engine_writes = Table(
    "sf_engine_writes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_id", ForeignKey("sf_record_sources.id", ondelete="CASCADE"), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column("field", String(128), nullable=False, comment="a column, or a label"),
    Column("value", Text, comment="the value written; NULL for a removed label"),
    Column("run_id", UUIDString, nullable=False),
    Column("depth", Integer, nullable=False),
    Column("written_at", UTCDateTime(), nullable=False),
    comment="poll capture: what the engine wrote, so a poll knows which changes it caused",
)
Index("ix_sf_engine_writes_record", engine_writes.c.source_id, engine_writes.c.record_key)

status_codes = Table(
    "sf_status_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", ForeignKey("sf_record_sources.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(60), nullable=False),
    Column("description", String(200), nullable=False),
    Column("sort_order", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("source_id", "code", name="uq_sf_status_codes_source_code"),
)

archived_records = Table(
    "sf_archived_records",
    metadata,
    Column("source_id", ForeignKey("sf_record_sources.id", ondelete="CASCADE"), primary_key=True),
    Column("record_key", String(200), primary_key=True),
    Column("archived_at", UTCDateTime(), nullable=False),
    Column("run_id", UUIDString, comment="the run whose archive step did it"),
    comment="records no graph starts on any more",
)

status_events = Table(
    "sf_status_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_id", ForeignKey("sf_record_sources.id", ondelete="CASCADE"), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column(
        "kind",
        String(20),
        nullable=False,
        comment="status | label | label_removed | created | field",
    ),
    Column("field", String(128), comment="the column (or label) that changed"),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("caused_by_run_id", UUIDString, comment="set when an engine write caused it"),
    Column("causation_depth", Integer, nullable=False, server_default=text("0")),
    Column("processed_at", UTCDateTime()),
    Column("processed_by", String(80)),
    Column("capture_id", BigInteger, comment="a host's capture row this event was moved from"),
    CheckConstraint(
        "kind IN ('status', 'label', 'label_removed', 'created', 'field')", name="known_kind"
    ),
)
Index(
    "ux_sf_status_events_capture",
    status_events.c.source_id,
    status_events.c.capture_id,
    unique=True,
)
Index(
    "ix_sf_status_events_unprocessed",
    status_events.c.id,
    sqlite_where=status_events.c.processed_at.is_(None),
    postgresql_where=status_events.c.processed_at.is_(None),
)
Index("ix_sf_status_events_record", status_events.c.source_id, status_events.c.record_key)

write_context = Table(
    "sf_write_context",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", UUIDString),
    Column("depth", Integer, nullable=False, server_default=text("0")),
    comment=(
        "SQLite only: the run whose write is in progress, read by the event triggers; "
        "PostgreSQL uses transaction-local settings instead"
    ),
)

# -- graphs and versions ------------------------------------------------------------

graphs = Table(
    "sf_graphs",
    metadata,
    Column("id", UUIDString, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("source_id", ForeignKey("sf_record_sources.id")),
    Column("draft", JSONDocument, comment="the editable StatusFlow JSON document"),
    Column("draft_updated_at", UTCDateTime()),
    Column("draft_updated_by", String(80)),
    Column("current_version_id", UUIDString, comment="the published version, if any"),
    Column("draft_test_run", JSONDocument, comment="the last test run of the draft"),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    _created(),
    Column("created_by", String(80)),
)

VERSION_STATES = ("in_review", "approved", "published", "superseded", "rejected")

graph_versions = Table(
    "sf_graph_versions",
    metadata,
    Column("id", UUIDString, primary_key=True),
    Column("graph_id", ForeignKey("sf_graphs.id", ondelete="CASCADE"), nullable=False),
    Column("major", Integer, nullable=False),
    Column("minor", Integer, nullable=False),
    Column("document", JSONDocument, nullable=False, comment="immutable once submitted"),
    Column("state", String(20), nullable=False),
    Column("author", String(80), nullable=False),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("change_note", Text, nullable=False, server_default=""),
    Column("reviewer", String(80)),
    Column("reviewed_at", UTCDateTime()),
    Column("review_comment", Text),
    Column("published_at", UTCDateTime()),
    Column("published_by", String(80)),
    Column("last_test_run", JSONDocument, comment="verdict and timeline of the last test run"),
    UniqueConstraint("graph_id", "major", "minor", name="uq_sf_graph_versions_number"),
    CheckConstraint(f"state IN ({', '.join(repr(s) for s in VERSION_STATES)})", name="known_state"),
)

# -- runs, steps, work items, tasks -------------------------------------------------

RUN_STATES = (
    "active",
    "succeeded",
    "succeeded_compensated",
    "cancelled",
    "failed",
    "stopped_loop_guard",
)

runs = Table(
    "sf_runs",
    metadata,
    Column("id", UUIDString, primary_key=True),
    Column("graph_id", ForeignKey("sf_graphs.id"), nullable=False),
    Column("version_id", ForeignKey("sf_graph_versions.id"), nullable=False),
    Column("source_id", ForeignKey("sf_record_sources.id"), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column("trigger_event_id", ForeignKey("sf_status_events.id")),
    Column("trigger_node_id", UUIDString, nullable=False),
    Column("state", String(30), nullable=False),
    Column("outcome_reason", Text),
    Column("causation_depth", Integer, nullable=False, server_default=text("0")),
    Column("start_snapshot", JSONDocument, nullable=False, comment="the record when it started"),
    Column(
        "enrollment_key",
        String(300),
        unique=True,
        comment="graph + record while active; NULL after: one active run per graph and record",
    ),
    Column("started_by", String(80), comment="user for manual starts"),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    UniqueConstraint("version_id", "trigger_event_id", name="uq_sf_runs_version_event"),
    CheckConstraint(f"state IN ({', '.join(repr(s) for s in RUN_STATES)})", name="known_state"),
)
Index("ix_sf_runs_record", runs.c.source_id, runs.c.record_key, runs.c.started_at)
Index("ix_sf_runs_graph_state", runs.c.graph_id, runs.c.state)

run_steps = Table(
    "sf_run_steps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("sf_runs.id", ondelete="CASCADE"), nullable=False),
    Column("node_id", UUIDString),
    Column("node_type", String(60)),
    Column(
        "kind",
        String(20),
        nullable=False,
        comment="trigger | condition | wait | action | retry | task | cancel | note | outcome",
    ),
    Column("summary", Text, nullable=False, comment="one plain sentence for the timeline"),
    Column("detail", JSONDocument, comment="rendered email, HTTP status, chosen branch..."),
    Column("attempt", Integer),
    Column("error_class", String(60)),
    Column("error", Text),
    Column("engine_id", UUIDString),
    Column("at", UTCDateTime(), nullable=False),
)
Index("ix_sf_run_steps_run", run_steps.c.run_id, run_steps.c.id)

work_items = Table(
    "sf_work_items",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", ForeignKey("sf_runs.id", ondelete="CASCADE"), nullable=False),
    Column("node_id", UUIDString, nullable=False),
    Column("record_lock", String(300), nullable=False, comment="source:key; one item at a time"),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("state", String(20), nullable=False, comment="pending | claimed | done | cancelled"),
    Column("attempt", Integer, nullable=False, server_default=text("0")),
    Column("lease_owner", UUIDString),
    Column("lease_expires_at", UTCDateTime()),
    Column("payload", JSONDocument, comment="what the node needs from the step before"),
    Column("cancel_reason", Text),
    _created(),
    Column("completed_at", UTCDateTime()),
    CheckConstraint("state IN ('pending', 'claimed', 'done', 'cancelled')", name="known_state"),
)
Index(
    "ix_sf_work_items_due",
    work_items.c.due_at,
    sqlite_where=work_items.c.state == "pending",
    postgresql_where=work_items.c.state == "pending",
)
Index("ix_sf_work_items_run", work_items.c.run_id)
Index("ix_sf_work_items_lease", work_items.c.state, work_items.c.lease_expires_at)

TASK_KINDS = ("approval", "compensation", "follow_up", "alert")
TASK_STATES = ("open", "approved", "rejected", "done", "abandoned", "escalated", "cancelled")

tasks = Table(
    "sf_tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("sf_runs.id", ondelete="CASCADE")),
    Column("node_id", UUIDString),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("instructions", Text, nullable=False, server_default=""),
    Column("checklist", JSONDocument, comment="documents or steps required"),
    Column("context", JSONDocument, comment="error, record fields, failing action"),
    Column("assignee_user", String(80)),
    Column("assignee_role", String(20)),
    Column("state", String(20), nullable=False),
    Column("progress", String(20), nullable=False, server_default="not_started"),
    Column("due_at", UTCDateTime()),
    Column("decided_by", String(80)),
    Column("decided_at", UTCDateTime()),
    Column("comment", Text),
    _created(),
    CheckConstraint(f"kind IN ({', '.join(repr(k) for k in TASK_KINDS)})", name="known_kind"),
    CheckConstraint(f"state IN ({', '.join(repr(s) for s in TASK_STATES)})", name="known_state"),
)
Index("ix_sf_tasks_open", tasks.c.state, tasks.c.assignee_role, tasks.c.assignee_user)

# -- audit, analytics, engines ------------------------------------------------------

audit_entries = Table(
    "sf_audit_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(60), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("object_id", String(200)),
    Column("summary", Text, nullable=False),
    Column("before", JSONDocument),
    Column("after", JSONDocument),
    comment="append-only: database triggers refuse UPDATE and DELETE",
)
Index("ix_sf_audit_entries_at", audit_entries.c.at)

analytics_events = Table(
    "sf_analytics_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("name", String(60), nullable=False),
    Column("source_id", Integer),
    Column("graph_id", UUIDString),
    Column("trigger_type", String(60)),
    Column("action_type", String(60)),
    Column("properties", JSONDocument),
)
Index("ix_sf_analytics_events_name_at", analytics_events.c.name, analytics_events.c.at)

engines = Table(
    "sf_engines",
    metadata,
    Column("id", UUIDString, primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("program_version", String(40), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("last_beat_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime()),
)

locks = Table(
    "sf_locks",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    comment="e.g. the single engine allowed on one SQLite file",
)
