"""The status codes of a record source: the catalogue people pick from when drawing.

A catalogue is always replaced as a whole (from a CSV file, from a table of the host
application, or from a list), checked before anything is written, and audited with
the codes before and after. Problems are reported with the line they are on, because
the person fixing them has the file open in a spreadsheet.

Running engines cache the descriptions (for ``{{ status_description }}`` and timeline
sentences). Every replacement stores a fresh token under ``STATUS_CODES_CHANGED`` in
the same transaction, and an engine reads its cache again when the token differs
from the one it saw: a changed description shows without a publish. A token rather
than a counter, because two replacements at once could both write the same count.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Connection, column, delete, insert, select
from sqlalchemy import table as table_clause

from engine import audit
from engine.errors import SourceError
from engine.permissions import require
from engine.settings import set_setting_in
from engine.sources.hosts import hosts
from engine.sources.introspection import check_columns, check_table, column_names, split_name
from engine.sources.registry import get_source, reading
from engine.storage.database import Database
from engine.storage.tables import status_codes
from engine.storage.types import new_id

MAX_CODE_LENGTH = 60
MAX_DESCRIPTION_LENGTH = 200
CSV_COLUMNS_HINT = "code,description (and optionally sort_order)"
STATUS_CODES_CHANGED = "engine.status_codes_changed"  # a new token on every replacement


@dataclass(frozen=True)
class StatusCode:
    """One status a record can be in, e.g. DEL - Delivered."""

    code: str
    description: str
    sort_order: int = 0


# An entry to load, with where it came from ("Line 4 of statuses.csv") for messages.
_Entry = tuple[str, StatusCode]


def _check(entries: list[_Entry], origin: str) -> list[StatusCode]:
    """The codes, once none is blank, repeated or too long; else the first problem."""
    if not entries:
        raise SourceError(f"{origin} holds no status codes; nothing was changed.")
    seen: dict[str, str] = {}
    for where, status in entries:
        if not status.code:
            raise SourceError(f"{where} has no code. Give every status a code, e.g. DEL.")
        if status.code in seen:
            raise SourceError(
                f"{where} repeats the code '{status.code}' ({seen[status.code].lower()} has it "
                "too). Each code may appear only once."
            )
        if len(status.code) > MAX_CODE_LENGTH or len(status.description) > MAX_DESCRIPTION_LENGTH:
            raise SourceError(
                f"{where} is too long: a code may have {MAX_CODE_LENGTH} characters and a "
                f"description {MAX_DESCRIPTION_LENGTH}. Shorten it."
            )
        seen[status.code] = where
    return [status for _, status in entries]


def _codes(conn: Connection, source_id: int) -> list[StatusCode]:
    query = (
        select(status_codes.c.code, status_codes.c.description, status_codes.c.sort_order)
        .where(status_codes.c.source_id == source_id)
        .order_by(status_codes.c.sort_order, status_codes.c.code)
    )
    return [StatusCode(*row) for row in conn.execute(query)]


def list_codes(conn_or_db: Connection | Database, source_name: str) -> list[StatusCode]:
    """The source's codes in the order people see them: sort order, then code."""
    with reading(conn_or_db) as conn:
        return _codes(conn, get_source(conn, source_name).id)


def _replace(
    conn: Connection, source_name: str, entries: list[_Entry], origin: str, actor: str
) -> list[StatusCode]:
    require(conn, actor, "sources.manage")
    codes = _check(entries, origin)
    source = get_source(conn, source_name)
    before = _codes(conn, source.id)
    conn.execute(delete(status_codes).where(status_codes.c.source_id == source.id))
    conn.execute(insert(status_codes), [{"source_id": source.id, **asdict(c)} for c in codes])
    audit.record(
        conn,
        actor=actor,
        action="status_codes.replace",
        object_type="record_source",
        object_id=source_name,
        summary=f"Replaced the status codes of '{source_name}' with {len(codes)} codes "
        f"from {origin}.",
        before=[asdict(c) for c in before],
        after=[asdict(c) for c in codes],
    )
    set_setting_in(conn, STATUS_CODES_CHANGED, new_id(), actor=actor, audited=False)
    return _codes(conn, source.id)


def set_codes(
    db: Database, source_name: str, codes: Iterable[tuple[str, str]], actor: str = "system"
) -> list[StatusCode]:
    """Replace the catalogue with these (code, description) pairs, in this order."""
    entries = [
        (f"Entry {n}", StatusCode(code.strip(), description.strip(), n))
        for n, (code, description) in enumerate(codes, start=1)
    ]
    with db.write() as conn:
        return _replace(conn, source_name, entries, "the list given", actor)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except FileNotFoundError:
        raise SourceError(f"There is no file {path}; check the path and try again.") from None
    except UnicodeDecodeError:
        raise SourceError(
            f"{path.name} is not UTF-8 text. Save it from your spreadsheet as "
            "'CSV UTF-8' and try again."
        ) from None
    except OSError as exc:
        raise SourceError(f"The file {path} cannot be read: {exc.strerror}.") from None


def _header(reader: Iterable[list[str]], name: str) -> list[str]:
    header = [cell.strip().lower() for cell in next(iter(reader), [])]
    for required in ("code", "description"):
        if required not in header:
            raise SourceError(
                f"Line 1 of {name} has no '{required}' column. The first line must name "
                f"the columns: {CSV_COLUMNS_HINT}."
            )
    return header


def _sort_order(raw: str, position: int, where: str) -> int:
    if not raw.strip():
        return position
    try:
        return int(raw)
    except ValueError:
        raise SourceError(
            f"{where}: the sort order '{raw.strip()}' is not a whole number. "
            "Use 1, 2, 3 … or leave it empty."
        ) from None


def _csv_entries(content: str, name: str) -> list[_Entry]:
    first_line = content.partition("\n")[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = _header(reader, name)
    entries: list[_Entry] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"Line {reader.line_num} of {name}"
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        order = _sort_order(cells.get("sort_order", ""), len(entries) + 1, where)
        status = StatusCode(cells.get("code", ""), cells.get("description", ""), order)
        entries.append((where, status))
    return entries


def load_codes_from_csv(
    db: Database, source_name: str, path: str | Path, actor: str = "system"
) -> list[StatusCode]:
    """Replace the catalogue with a CSV file's codes (comma or semicolon separated)."""
    path = Path(path)
    entries = _csv_entries(_read_text(path), path.name)
    with db.write() as conn:
        return _replace(conn, source_name, entries, path.name, actor)


def load_codes_from_table(
    db: Database,
    source_name: str,
    table: str,
    code_column: str = "code",
    description_column: str = "description",
    actor: str = "system",
) -> list[StatusCode]:
    """Replace the catalogue with the codes the host application keeps in a table."""
    with db.write() as conn, hosts.connect(conn, get_source(conn, source_name)) as host:
        stored = check_table(host, table)
        code, description = check_columns(host, stored, (code_column, description_column))
        order = code
        if "sort_order" in column_names(host, stored):  # the host's own order, when it has one
            order = "sort_order"
        schema, name = split_name(stored)
        source_table = table_clause(
            name, column(code), column(description), column(order), schema=schema
        )
        query = select(source_table.c[code], source_table.c[description]).order_by(
            source_table.c[order], source_table.c[code]
        )
        entries = [
            (f"A row of {stored}", StatusCode(_cell(c), _cell(d), n))
            for n, (c, d) in enumerate(host.execute(query), start=1)
        ]
        return _replace(conn, source_name, entries, f"the table {stored}", actor)


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()
