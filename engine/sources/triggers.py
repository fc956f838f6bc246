"""Database triggers that turn every change to a watched table into one event row.

The host application keeps writing its tables as it always did; the triggers append
to ``sf_status_events`` in the same transaction, so an event exists exactly when the
change committed.

A host's write must never fail because of StatusFlow. On PostgreSQL the capture
function is ``SECURITY DEFINER``, owned by StatusFlow's role, with a fixed
``search_path`` and schema-qualified names: the host's roles need no grant on
StatusFlow's tables and never see them, and whatever ``search_path`` the writer has
cannot redirect the insert. The insert itself has nothing that can fail (no unique
key, a long key is cut to the column's width, a garbled depth setting reads as 0).
There is deliberately no exception handler: one would open a subtransaction for every
captured row, which slows a host's bulk updates for every reader of the database.

A change the engine made carries the run that caused it and the
causation depth (the loop guard reads them): PostgreSQL passes them in
transaction-local settings, SQLite in the one-row ``sf_write_context`` table.

Each trigger is first described once (:class:`_Watch`), then rendered for the
backend. Every identifier in the DDL has been checked against the database by the
registry and is quoted here by the dialect; values enter only as quoted literals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, String, text, update

from engine.errors import SourceError
from engine.sources import capture_table, mysql_grants
from engine.sources.capture_table import CAPTURE_TABLE
from engine.sources.hosts import is_mysql
from engine.sources.introspection import own_schema, quoted, split_name
from engine.storage.tables import write_context

if TYPE_CHECKING:
    from engine.sources.registry import SourceInfo

NOTIFY_CHANNEL = "sf_status_events"

_EVENT_COLUMNS = (
    "source_id, record_key, kind, field, old_value, new_value, occurred_at, "
    "caused_by_run_id, causation_depth"
)

# One function for every source: arguments are source id, event kind, key column,
# then the columns whose old/new values become events.
CAPTURE_FUNCTION = "sf_capture_change"
_PG_CAPTURE_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.sf_capture_change() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    v_source_id integer := TG_ARGV[0]::integer;
    v_kind text := TG_ARGV[1];
    v_run_id text := NULLIF(current_setting('statusflow.run_id', true), '');
    v_depth_text text := current_setting('statusflow.depth', true);
    v_depth integer := CASE WHEN v_depth_text ~ '^[0-9]{{1,6}}$' THEN v_depth_text::integer
                            ELSE 0 END;
    v_old jsonb;
    v_new jsonb;
    v_key text;
    v_column text;
BEGIN
    IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW); END IF;
    v_key := left(COALESCE(v_new, v_old) ->> TG_ARGV[2], 200);
    IF v_key IS NULL THEN
        RETURN NULL;
    END IF;
    FOR i IN 3 .. TG_NARGS - 1 LOOP
        v_column := TG_ARGV[i];
        IF TG_OP <> 'UPDATE' OR (v_old -> v_column) IS DISTINCT FROM (v_new -> v_column) THEN
            INSERT INTO {schema}.sf_status_events ({columns})
            VALUES (v_source_id, v_key, v_kind, v_column, v_old ->> v_column,
                    v_new ->> v_column, clock_timestamp(), left(v_run_id, 36), v_depth);
        END IF;
    END LOOP;
    PERFORM pg_notify('{channel}', v_source_id::text);
    RETURN NULL;
END
$fn$
"""

# Padded to microseconds so UTCDateTime reads SQLite's text back as a datetime.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
_SQLITE_CONTEXT = (
    "(SELECT run_id FROM sf_write_context WHERE id = 1), "
    "COALESCE((SELECT depth FROM sf_write_context WHERE id = 1), 0)"
)


@dataclass(frozen=True)
class _Watch:
    """One trigger: which change on which table becomes which kind of event."""

    suffix: str
    table: str
    operation: str  # INSERT | UPDATE | DELETE
    kind: str
    key_column: str
    value_columns: tuple[str, ...]

    def name(self, source: SourceInfo) -> str:
        return f"sf_{source.name}_{self.suffix}"


def _watches(source: SourceInfo) -> list[_Watch]:
    table, key, status = source.table, source.key_column, source.status_column
    watches = [
        _Watch("status", table, "UPDATE", "status", key, (status,)),
        _Watch("created", table, "INSERT", "created", key, (status,)),
    ]
    if source.watched_columns:
        watches.append(_Watch("fields", table, "UPDATE", "field", key, source.watched_columns))
    if source.label_table and source.label_key_column and source.label_column:
        label_key, label = source.label_key_column, source.label_column
        watches += [
            _Watch("label_added", source.label_table, "INSERT", "label", label_key, (label,)),
            _Watch(
                "label_removed", source.label_table, "DELETE", "label_removed", label_key, (label,)
            ),
        ]
    return watches


class _Renderer:
    """Quoting for one connection's dialect."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.quote = conn.dialect.identifier_preparer.quote
        literal = String().literal_processor(conn.dialect)
        assert literal is not None
        self.literal = literal
        self._capture_table: str | None = None

    @property
    def capture_table(self) -> str:
        """MySQL: the capture table in the connection's database, asked once."""
        if self._capture_table is None:
            database = str(self.conn.scalar(text("SELECT DATABASE()")))
            self._capture_table = f"{self.quote(database)}.{self.quote(CAPTURE_TABLE)}"
        return self._capture_table

    def head(self, source: SourceInfo, watch: _Watch) -> str:
        q = self.quote
        of = ""
        if watch.operation == "UPDATE" and not is_mysql(self.conn):  # MySQL has no OF
            of = " OF " + ", ".join(q(c) for c in watch.value_columns)
        return (
            f"CREATE TRIGGER {self.trigger_name(source, watch)} AFTER {watch.operation}{of} "
            f"ON {quoted(self.conn, watch.table)} FOR EACH ROW"
        )

    def trigger_name(self, source: SourceInfo, watch: _Watch) -> str:
        """MySQL keeps a trigger in its table's database; the others by the table."""
        schema, _ = split_name(watch.table)
        name = self.quote(watch.name(source))
        return f"{self.quote(schema)}.{name}" if schema and is_mysql(self.conn) else name

    def differs(self, columns: tuple[str, ...], operator: str) -> str:
        """The condition 'one of these columns changed' in this UPDATE."""
        q = self.quote
        return " OR ".join(f"OLD.{q(c)} {operator} NEW.{q(c)}" for c in columns)


def _postgresql_trigger(r: _Renderer, source: SourceInfo, watch: _Watch) -> str:
    when = ""
    if watch.operation == "UPDATE":
        when = f" WHEN ({r.differs(watch.value_columns, 'IS DISTINCT FROM')})"
    arguments = (str(source.id), watch.kind, watch.key_column, *watch.value_columns)
    call = ", ".join(r.literal(a) for a in arguments)
    function = f"{r.quote(_own_schema(r.conn))}.{CAPTURE_FUNCTION}"
    return f"{r.head(source, watch)}{when} EXECUTE FUNCTION {function}({call})"


def _sqlite_insert(r: _Renderer, source: SourceInfo, watch: _Watch, column: str) -> str:
    row = "OLD" if watch.operation == "DELETE" else "NEW"
    key = f"{row}.{r.quote(watch.key_column)}"
    old = "NULL" if watch.operation == "INSERT" else f"CAST(OLD.{r.quote(column)} AS TEXT)"
    new = "NULL" if watch.operation == "DELETE" else f"CAST(NEW.{r.quote(column)} AS TEXT)"
    condition = f"{key} IS NOT NULL"
    if watch.operation == "UPDATE":
        condition += f" AND {r.differs((column,), 'IS NOT')}"
    return (
        f"INSERT INTO sf_status_events ({_EVENT_COLUMNS}) "
        f"SELECT {int(source.id)}, CAST({key} AS TEXT), {r.literal(watch.kind)}, "
        f"{r.literal(column)}, {old}, {new}, {_SQLITE_NOW}, {_SQLITE_CONTEXT} "
        f"WHERE {condition};"
    )


def _sqlite_trigger(r: _Renderer, source: SourceInfo, watch: _Watch) -> str:
    when = ""
    if watch.operation == "UPDATE":
        when = f" WHEN {r.differs(watch.value_columns, 'IS NOT')}"
    inserts = " ".join(_sqlite_insert(r, source, watch, c) for c in watch.value_columns)
    return f"{r.head(source, watch)}{when} BEGIN {inserts} END"


_MYSQL_CONTEXT = (
    "NULLIF(LEFT(@statusflow_run_id, 36), ''), "
    "IF(@statusflow_depth REGEXP '^[0-9]{1,6}$', CAST(@statusflow_depth AS UNSIGNED), 0)"
)


def _mysql_insert(r: _Renderer, source: SourceInfo, watch: _Watch, column: str) -> str:
    """One captured column: bytes in, so no value can make the insert fail."""
    q = r.quote
    row = "OLD" if watch.operation == "DELETE" else "NEW"
    key = f"{row}.{q(watch.key_column)}"
    old = "NULL" if watch.operation == "INSERT" else f"CAST(OLD.{q(column)} AS BINARY)"
    new = "NULL" if watch.operation == "DELETE" else f"CAST(NEW.{q(column)} AS BINARY)"
    condition = f"{key} IS NOT NULL"
    if watch.operation == "UPDATE":
        condition += f" AND NOT (OLD.{q(column)} <=> NEW.{q(column)})"
    return (
        f"IF {condition} THEN INSERT INTO {r.capture_table} ({_EVENT_COLUMNS}) VALUES "
        f"({int(source.id)}, LEFT(CAST({key} AS CHAR), 200), {r.literal(watch.kind)}, "
        f"{r.literal(column)}, {old}, {new}, UTC_TIMESTAMP(6), {_MYSQL_CONTEXT}); END IF;"
    )


def _mysql_trigger(r: _Renderer, source: SourceInfo, watch: _Watch) -> str:
    """MySQL has no subtransactions, so a handler costs nothing per row: a capture
    insert that fails (its grant revoked, the table dropped) is skipped and the host's
    statement succeeds; ``source check`` then says why changes stopped arriving."""
    inserts = " ".join(_mysql_insert(r, source, watch, c) for c in watch.value_columns)
    skip = "DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;"
    return f"{r.head(source, watch)} BEGIN {skip} {inserts} END"


def _own_schema(conn: Connection) -> str:
    schema = own_schema(conn)
    assert schema, "a PostgreSQL connection always has StatusFlow's schema first"
    return schema


def install_function(conn: Connection) -> None:
    """PostgreSQL: the one capture function, in StatusFlow's schema and owned by its role
    (so it runs with that role's rights, whoever writes the host table)."""
    schema = conn.dialect.identifier_preparer.quote(_own_schema(conn))
    conn.exec_driver_sql(
        _PG_CAPTURE_FUNCTION.format(schema=schema, columns=_EVENT_COLUMNS, channel=NOTIFY_CHANNEL)
    )


def named_ddl(conn: Connection, source: SourceInfo) -> list[tuple[str, str]]:
    """Each of the source's triggers: its name and the statement that creates it."""
    renderer = _Renderer(conn)
    render = _sqlite_trigger
    if conn.dialect.name == "postgresql":
        render = _postgresql_trigger
    elif is_mysql(conn):
        render = _mysql_trigger
    return [(watch.name(source), render(renderer, source, watch)) for watch in _watches(source)]


def trigger_ddl(conn: Connection, source: SourceInfo) -> list[str]:
    """The statements that create the source's triggers on the host tables."""
    return [statement for _, statement in named_ddl(conn, source)]


def drop_ddl(conn: Connection, source: SourceInfo) -> list[str]:
    """The statements that remove the source's triggers, leaving the host tables as they were."""
    renderer = _Renderer(conn)
    postgresql = conn.dialect.name == "postgresql"
    return [
        f"DROP TRIGGER IF EXISTS {renderer.trigger_name(source, watch)}"
        + (f" ON {quoted(conn, watch.table)}" if postgresql else "")
        for watch in _watches(source)
    ]


def _tables(source: SourceInfo) -> list[str]:
    return list(dict.fromkeys(watch.table for watch in _watches(source)))


def _role(conn: Connection) -> str:
    return str(conn.scalar(text("SELECT current_user")))


def _require_trigger_privilege(conn: Connection, source: SourceInfo) -> None:
    for table in _tables(source):
        allowed = conn.scalar(
            text("SELECT has_table_privilege(:t, 'TRIGGER')"), {"t": quoted(conn, table)}
        )
        if not allowed:
            role = _role(conn)
            raise SourceError(
                f"StatusFlow's database role {role} may not add triggers to {table} (it lacks "
                f"the TRIGGER privilege). Either an administrator runs GRANT TRIGGER ON "
                f"{quoted(conn, table)} TO {role}; or add --install-later and have an "
                f"administrator run the SQL from 'statusflow source sql {source.name}', or "
                "use --capture poll, which changes nothing on the host's tables."
            )


def mysql_needs(source: SourceInfo) -> list[tuple[str, str, str]]:
    """(table, privilege, why) for trigger capture on a MariaDB/MySQL host."""
    needs = [(table, "TRIGGER", "add the capture triggers") for table in _tables(source)]
    needs += [
        (CAPTURE_TABLE, p, "keep captured changes until the engine moves them")
        for p in ("CREATE", "DROP", "SELECT", "INSERT", "DELETE")
    ]
    needs += [
        (capture_table.MARKER_TABLE, p, "record which writes committed, so none runs twice")
        for p in ("CREATE", "DROP", "SELECT", "INSERT")
    ]
    return needs


def _require_mysql_privileges(conn: Connection, source: SourceInfo) -> None:
    missing: dict[str, list[str]] = {}
    for table, privilege, _ in mysql_needs(source):
        if privilege not in mysql_grants.privileges(conn, table):
            missing.setdefault(table, []).append(privilege)
    if missing:
        what = "; ".join(f"{', '.join(p)} on {t}" for t, p in missing.items())
        grants = " ".join(mysql_grants.grant_sql(conn, ", ".join(p), t) for t, p in missing.items())
        raise SourceError(
            f"StatusFlow's login {mysql_grants.login(conn)} may not install trigger capture "
            f"(it lacks {what}). Either an administrator runs {grants} or add "
            f"--install-later and have an administrator run the SQL from 'statusflow source "
            f"sql {source.name}', or use --capture poll, which changes nothing on the host."
        )


def install(conn: Connection, source: SourceInfo, *, create_triggers: bool = True) -> None:
    """Create the source's triggers (and, on PostgreSQL, the shared capture function);
    without ``create_triggers`` an administrator runs :func:`trigger_ddl` by hand."""
    if conn.dialect.name == "postgresql":
        install_function(conn)
        if create_triggers:
            _require_trigger_privilege(conn, source)
    elif is_mysql(conn) and create_triggers:
        _require_mysql_privileges(conn, source)
        capture_table.create_tables(conn)
    if create_triggers:
        for statement in trigger_ddl(conn, source):
            conn.exec_driver_sql(statement)


_MYSQL_TRIGGERS = text(  # the triggers that capture into this database's table
    "SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS "
    "WHERE TRIGGER_NAME LIKE 'sf\\_%' "
    "AND ACTION_STATEMENT LIKE CONCAT('%', DATABASE(), '%.%sf_capture%')"
)
_PG_TRIGGERS = text(
    "SELECT t.tgname AS name, pg_has_role(c.relowner, 'USAGE') AS owned "
    "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE t.tgrelid = CAST(:table AS regclass) AND NOT t.tgisinternal"
)


def installed(conn: Connection, source: SourceInfo) -> dict[str, bool]:
    """The source's triggers that exist now, each with whether StatusFlow's role owns
    its table (and so may drop it)."""
    names = {watch.name(source) for watch in _watches(source)}
    if is_mysql(conn):
        rows = conn.execute(_MYSQL_TRIGGERS)
        return {row.name: True for row in rows if row.name in names}
    if conn.dialect.name != "postgresql":
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        return {row.name: True for row in rows if row.name in names}
    found: dict[str, bool] = {}
    for table in _tables(source):
        for row in conn.execute(_PG_TRIGGERS, {"table": quoted(conn, table)}):
            if row.name in names:
                found[row.name] = bool(row.owned)
    return found


def uninstall(conn: Connection, source: SourceInfo) -> None:
    """Drop the source's triggers; the shared function stays for the other sources.
    Triggers on a table StatusFlow does not own are refused with the SQL to run."""
    if not all(installed(conn, source).values()):
        statements = ";\n".join(drop_ddl(conn, source))
        raise SourceError(
            f"StatusFlow's database role {_role(conn)} does not own {source.table}, so PostgreSQL "
            f"lets it add triggers there but not remove them. An administrator runs:\n"
            f"{statements};\nthen run 'statusflow source remove {source.name}' again."
        )
    for statement in drop_ddl(conn, source):
        conn.exec_driver_sql(statement)
    if is_mysql(conn):
        capture_table.forget_source(conn, source)
        if not conn.execute(_MYSQL_TRIGGERS).first():  # the last source on this host
            capture_table.drop_tables(conn)


def set_write_context(conn: Connection, run_id: str, depth: int) -> None:
    """Mark the writes that follow in this transaction as caused by ``run_id``.

    On SQLite the engine must call :func:`clear_write_context` before it commits,
    or later writes by anyone would be blamed on the run; PostgreSQL forgets the
    settings at the end of the transaction by itself.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_SET_CONFIG, {"run_id": run_id, "depth": str(depth)})
    elif is_mysql(conn):
        conn.execute(_SESSION_VARIABLES, {"run_id": run_id, "depth": depth})
    else:
        conn.execute(_CONTEXT_ROW, {"run_id": run_id, "depth": depth})


def clear_write_context(conn: Connection) -> None:
    """Writes that follow in this transaction are no longer caused by a run."""
    if conn.dialect.name == "postgresql":
        conn.execute(_SET_CONFIG, {"run_id": "", "depth": "0"})
    elif is_mysql(conn):
        conn.execute(_SESSION_VARIABLES, {"run_id": None, "depth": 0})
    else:
        conn.execute(_CONTEXT_ROW, {"run_id": None, "depth": 0})


# built once: the engine sets and clears the context around every record write
_SET_CONFIG = text(
    "SELECT set_config('statusflow.run_id', :run_id, true), "
    "set_config('statusflow.depth', :depth, true)"
)
# MySQL: session variables, which outlive the transaction: always cleared after a write
_SESSION_VARIABLES = text("SET @statusflow_run_id = :run_id, @statusflow_depth = :depth")
_CONTEXT_ROW = update(write_context).where(write_context.c.id == 1)
