"""Is a record source ready? Every grant and object it needs, checked as StatusFlow's role.

``statusflow source check`` and the designer's "Check" button show this list. Each
line says in plain words what is there or missing, and for what is missing the exact
SQL an administrator runs. The host application's own roles never need anything new:
capture runs with StatusFlow's rights (see :mod:`engine.sources.triggers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from engine.errors import SourceError
from engine.permissions import require
from engine.sources import capture_table, mysql_grants, registry, triggers
from engine.sources.hosts import hosts, is_mysql
from engine.sources.introspection import quoted, split_name
from engine.sources.registry import SourceInfo, get_source
from engine.storage.database import Database


@dataclass(frozen=True)
class Finding:
    """One thing a source needs: whether it is there, and the SQL that provides it."""

    ok: bool
    sentence: str
    fix: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Readiness:
    source: SourceInfo
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        return all(f.ok for f in self.findings)


def check_source(db: Database, name: str, actor: str = "system") -> Readiness:
    """What the source needs of the database, each item checked now."""
    with db.read() as conn:
        require(conn, actor, "sources.manage")
        source = get_source(conn, name)
        with hosts.connect(conn, source) as host:
            findings = []
            if host.dialect.name == "postgresql":
                findings = _postgresql(host, source)
            elif is_mysql(host):
                findings = _mysql(host, source)
            if source.polled:
                findings.append(_polled(source))
            elif _sees_triggers(host, source, findings):
                findings.append(_triggers(host, source))
    return Readiness(source, tuple(findings))


def capture_script(db: Database, name: str, *, remove: bool = False, actor: str = "system") -> str:
    """:func:`capture_sql` as a script the database's own client runs as pasted (psql;
    for mysql between DELIMITER lines, as trigger bodies hold semicolons)."""
    statements, mysql = _capture(db, name, remove, actor)
    return "\n".join(for_client(statements, mysql=mysql))


def for_client(statements: list[str], *, mysql: bool) -> list[str]:
    """Statements terminated as the database's command-line client reads them."""
    if not mysql:
        return [statement + ";\n" for statement in statements]
    return ["DELIMITER //", *(statement + " //" for statement in statements), "DELIMITER ;"]


def capture_sql(
    db: Database, name: str, *, remove: bool = False, actor: str = "system"
) -> list[str]:
    """The statements that install (or remove) the source's capture triggers, for an
    administrator to review and run by hand."""
    return _capture(db, name, remove, actor)[0]


def _capture(db: Database, name: str, remove: bool, actor: str) -> tuple[list[str], bool]:
    """The capture statements, and whether the host is MariaDB/MySQL (one connection)."""
    with db.read() as conn:
        require(conn, actor, "sources.manage")
        source = get_source(conn, name)
        if source.polled:
            raise SourceError(
                f"'{name}' is captured by polling: nothing is installed on {source.table}, "
                "so there is no SQL to run."
            )
        with hosts.connect(conn, source) as host:
            mysql = is_mysql(host)
            if remove:
                return triggers.drop_ddl(host, source) + _tables_left(conn, host, source), mysql
            created = capture_table.create_ddl(host) if mysql else []
            return created + triggers.trigger_ddl(host, source), mysql


def _tables_left(conn: Connection, host: Connection, source: SourceInfo) -> list[str]:
    """MySQL: the capture tables go with the last trigger-captured source of the host."""
    if not is_mysql(host):
        return []
    others = [
        s
        for s in registry.list_sources_in(conn)
        if s.host_url == source.host_url and not s.polled and s.id != source.id
    ]
    return [] if others else capture_table.drop_ddl(host)


def _sees_triggers(host: Connection, source: SourceInfo, findings: list[Finding]) -> bool:
    """Whether the triggers can be looked up: PostgreSQL needs the schema (the first
    finding), MySQL shows a table's triggers only to a login with TRIGGER on it."""
    if is_mysql(host):
        tables = [t for t, p, _ in triggers.mysql_needs(source) if p == "TRIGGER"]
        return all("TRIGGER" in mysql_grants.privileges(host, t) for t in tables)
    return all(f.ok for f in findings[:1])


def _privilege(conn: Connection, table: str, privilege: str) -> bool:
    query = text("SELECT has_table_privilege(:t, :p)")
    return bool(conn.scalar(query, {"t": quoted(conn, table), "p": privilege}))


def _postgresql(conn: Connection, source: SourceInfo) -> list[Finding]:
    role = str(conn.scalar(text("SELECT current_user")))
    findings = [_schema_usage(conn, source.table, role)]
    if not findings[0].ok:
        return findings  # nothing in the schema can be checked without it
    for table, privilege, why in _needs(source):
        ok = _privilege(conn, table, privilege)
        sentence = f"{role} may {privilege} {table} (to {why})"
        if not ok:
            sentence = f"{role} lacks {privilege} on {table}, needed to {why}"
        fix = () if ok else (f"GRANT {privilege} ON {quoted(conn, table)} TO {role};",)
        findings.append(Finding(ok, sentence + ".", fix))
    if not source.polled:
        findings.append(_capture_function(conn, role))
    return findings


def _mysql(host: Connection, source: SourceInfo) -> list[Finding]:
    """One finding per table: MySQL grants a table that does not exist yet (StatusFlow's
    capture tables) only with CREATE in the same GRANT, so a table's missing
    privileges go into one statement."""
    login = mysql_grants.login(host)
    needs = _needs(source) + ([] if source.polled else triggers.mysql_needs(source))
    by_table: dict[str, list[tuple[str, str]]] = {}
    for table, privilege, why in needs:
        by_table.setdefault(table, []).append((privilege, why))
    findings = []
    for table, wanted in by_table.items():
        has = mysql_grants.privileges(host, table)
        missing = [(p, why) for p, why in wanted if p not in has]
        if not missing:
            names = ", ".join(p for p, _ in wanted)
            findings.append(Finding(True, f"{login} may {names} {table}."))
            continue
        names = ", ".join(p for p, _ in missing)
        whys = "; ".join(dict.fromkeys(why for _, why in missing))
        fix = mysql_grants.grant_sql(host, names, table)
        findings.append(
            Finding(False, f"{login} lacks {names} on {table}, needed to {whys}.", (fix,))
        )
    return findings


def _needs(source: SourceInfo) -> list[tuple[str, str, str]]:
    """(table, privilege, why) for reading and writing the source's records."""
    needs = [
        (source.table, "SELECT", "read its records"),
        (source.table, "UPDATE", "let graphs set a status or a field"),
    ]
    if source.label_table:
        needs += [
            (source.label_table, "SELECT", "read labels"),
            (source.label_table, "INSERT", "let graphs apply labels"),
            (source.label_table, "DELETE", "let graphs remove labels"),
        ]
    return needs


def _schema_usage(conn: Connection, table: str, role: str) -> Finding:
    schema = split_name(table)[0] or "public"
    ok = bool(conn.scalar(text("SELECT has_schema_privilege(:s, 'USAGE')"), {"s": schema}))
    if ok:
        return Finding(True, f"{role} may use the schema {schema}.")
    quote = conn.dialect.identifier_preparer.quote
    return Finding(
        False,
        f"{role} may not use the schema {schema}, so it cannot see {table}.",
        (f"GRANT USAGE ON SCHEMA {quote(schema)} TO {role};",),
    )


_FUNCTION = text(
    "SELECT p.prosecdef AS definer, pg_get_userbyid(p.proowner) AS owner "
    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = current_schema() AND p.proname = :name"
)


def _capture_function(conn: Connection, role: str) -> Finding:
    row = conn.execute(_FUNCTION, {"name": triggers.CAPTURE_FUNCTION}).first()
    if row is not None and row.definer:
        return Finding(
            True,
            f"The capture function runs with the rights of {row.owner}, so the host "
            "application's roles need no grant.",
        )
    return Finding(
        False,
        "The capture function is missing or does not run with StatusFlow's rights; "
        f"register the source again as {role}.",
    )


def _polled(source: SourceInfo) -> Finding:
    return Finding(
        True,
        f"{source.table} is {registry.capture_words(source)}; nothing of StatusFlow's is "
        "installed on it.",
    )


def _triggers(conn: Connection, source: SourceInfo) -> Finding:
    present = triggers.installed(conn, source)
    missing = [(n, s) for n, s in triggers.named_ddl(conn, source) if n not in present]
    tables = " and ".join(filter(None, (source.table, source.label_table)))
    if not missing:
        return Finding(True, f"The capture triggers on {tables} are installed.")
    names = ", ".join(name for name, _ in missing)
    return Finding(
        False,
        f"The capture trigger(s) {names} are missing, so those changes to {tables} are "
        "not seen. An administrator runs:",
        tuple(for_client([statement for _, statement in missing], mysql=is_mysql(conn))),
    )
