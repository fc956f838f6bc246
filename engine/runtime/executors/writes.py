"""Steps that change the record or the timeline, in the step's own transaction.

Record writes are stamped with the run and its causation depth, so the status
events they cause carry both (loop guard), and they commit exactly once with the
step result.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, insert, select

from engine.errors import StatusFlowError
from engine.graph.templates import render
from engine.runtime.executors.base import InternalExecutor, Outcome, Step
from engine.storage.tables import archived_records


def _conn(step: Step) -> Connection:
    assert step.conn is not None, "internal executors run inside a transaction"
    return step.conn


def _write(step: Step, values: dict[str, Any]) -> None:
    changed = step.services.records.write_fields(
        _conn(step),
        step.version.source,
        step.run.record_key,
        values,
        run_id=step.run.id,
        depth=step.run.causation_depth + 1,
        step_key=step.idempotency_key,
        expected={name: (step.record or {}).get(name) for name in values},
    )
    if not changed:
        raise StatusFlowError(f"Record {step.run.record_key} no longer exists.")


class SetStatus(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        source = step.version.source
        code = str(step.params["code"])
        old = (step.record or {}).get(source.status_column)
        _write(step, {source.status_column: code})
        described = step.services.status_description(source, code)
        shown = f"{code} – {described}" if described else code
        return Outcome(
            f"Set the status from {old} to {shown}.",
            detail={"old": old, "new": code},
            snapshot_update={source.status_column: code},
        )


def _typed(kind: str, text: str) -> Any:
    """The rendered text as the column's type; a clear error if it is not one."""
    if text == "":
        return None
    try:
        if kind == "number":  # int or float: every database driver stores those
            number = Decimal(text.replace(",", "."))
            return int(number) if number == number.to_integral_value() else float(number)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "datetime":
            return datetime.fromisoformat(text)
        if kind == "boolean":
            return text.strip().casefold() in ("1", "true", "yes", "y")
    except (InvalidOperation, ValueError):
        raise StatusFlowError(f"'{text}' is not a {kind}.") from None
    return text


class SetField(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        name = step.params["field"]
        text = render(str(step.params.get("value") or ""), step.template_values())
        value = _typed(step.version.source.fields.get(name, "text"), text)
        old = (step.record or {}).get(name)
        _write(step, {name: value})
        return Outcome(
            f"Set {name} from {old!r} to {text!r}.",
            detail={"field": name, "old": str(old), "new": text},
            snapshot_update={name: text},
        )


class ApplyLabel(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        label = str(step.params["label"])
        remove = bool(step.params.get("remove"))
        changed = step.services.records.set_label(
            _conn(step),
            step.version.source,
            step.run.record_key,
            label,
            present=not remove,
            run_id=step.run.id,
            depth=step.run.causation_depth + 1,
            step_key=step.idempotency_key,
        )
        verb = "Removed the label" if remove else "Applied the label"
        already = "" if changed else " (nothing to do: it already was so)"
        return Outcome(f"{verb} '{label}'{already}.", detail={"label": label, "removed": remove})


class ArchiveRecord(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        source_id, key = step.version.source.id, step.run.record_key
        already = (
            _conn(step)
            .execute(
                select(archived_records.c.record_key)
                .where(archived_records.c.source_id == source_id)
                .where(archived_records.c.record_key == key)
            )
            .first()
        )
        if already:
            return Outcome("The record was already archived.")
        _conn(step).execute(
            insert(archived_records).values(
                source_id=source_id,
                record_key=key,
                archived_at=step.clock.now(),
                run_id=step.run.id,
            )
        )
        return Outcome("Archived the record: no automation starts on it any more.")


class AddNote(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        note = render(str(step.params["note"]), step.template_values())
        return Outcome(note, kind="note", detail={"note": note})
