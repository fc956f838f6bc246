"""Conditions and waits: steps that choose a branch or come back later."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from engine import durations
from engine.runtime.executors.base import InternalExecutor, Outcome, Step
from engine.runtime.rules import evaluate
from engine.time_zone import in_zone, moment_text, next_clock_time


class Rules(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        verdict, explained = evaluate(
            step.params["rules"], step.record or {}, step.run.start_snapshot, step.services.zone
        )
        branch = "Yes" if verdict else "No"
        return Outcome(
            f"Checked the record: {branch}. " + "; ".join(explained),
            kind="condition",
            ports=("true" if verdict else "false",),
            detail={"branch": "true" if verdict else "false", "rules": explained},
        )


class Switch(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        name = step.params["field"]
        value = (step.record or {}).get(name)
        for number, case in enumerate(step.params.get("cases") or [], start=1):
            if str(case.get("value", "")).strip().casefold() == str(value).strip().casefold():
                port = case.get("port") or f"case_{number}"
                return Outcome(
                    f"{name} is {value}: took the branch '{case['value']}'.",
                    kind="condition",
                    ports=(port,),
                    detail={"branch": port},
                )
        return Outcome(
            f"{name} is {value}: no case matched, took 'Anything else'.",
            kind="condition",
            ports=("default",),
            detail={"branch": "default"},
        )


def _waited(step: Step, summary: str) -> Outcome:
    return Outcome(summary, kind="wait", detail={"fired_at": step.clock.now().isoformat()})


class WaitDuration(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        duration = step.params["duration"]
        if step.phase == "waiting":
            return _waited(step, f"Waited {durations.describe(duration)}.")
        due = step.clock.now() + durations.to_timedelta(duration)
        return Outcome(
            f"Waiting {durations.describe(duration)}, until {_when(step, due)}.",
            kind="wait",
            wait_until=due,
            payload={"phase": "waiting"},
            detail={"due_at": due.isoformat()},
        )


def _as_moment(value: Any, zone: tzinfo) -> datetime | None:
    """A record's date or time field as a moment; text is read as ISO 8601."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return in_zone(value, zone) if isinstance(value, date) else None


def _when(step: Step, moment: datetime) -> str:
    return moment_text(moment, step.services.zone)


class WaitUntil(InternalExecutor):
    def _due(self, step: Step) -> datetime | None:
        params, zone = step.params, step.services.zone
        if params.get("mode") == "field":
            base = _as_moment((step.record or {}).get(str(params.get("field"))), zone)
            if base is None:
                return None
            offset = params.get("offset")
            delta = durations.to_timedelta(offset) if offset else timedelta(0)
            return base - delta if params.get("offset_direction") == "before" else base + delta
        hours, minutes = (int(part) for part in str(params.get("time", "09:00")).split(":"))
        return next_clock_time(step.clock.now(), time(hours, minutes), zone)

    def run(self, step: Step) -> Outcome:
        if step.phase == "waiting":
            return _waited(step, "The wait ended.")
        due = self._due(step)
        if due is None:
            return Outcome(
                f"The record has no date in '{step.params.get('field')}', so there was "
                "nothing to wait for; continued at once.",
                kind="wait",
            )
        if due <= step.clock.now():
            return _waited(step, f"{_when(step, due)} had already passed; continued.")
        return Outcome(
            f"Waiting until {_when(step, due)}.",
            kind="wait",
            wait_until=due,
            payload={"phase": "waiting"},
            detail={"due_at": due.isoformat()},
        )


class WaitStatus(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        codes = [str(code) for code in step.params["codes"]]
        status = str((step.record or {}).get(step.version.source.status_column))
        if status in codes:
            return Outcome(
                f"The record is in {status}: continued on 'Status reached'.",
                kind="wait",
                ports=("entered",),
                detail={"branch": "entered"},
            )
        if step.phase == "waiting":
            return Outcome(
                f"No status among {', '.join(codes)} arrived in time: continued on 'Timed out'.",
                kind="wait",
                ports=("timeout",),
                detail={"branch": "timeout"},
            )
        due = step.clock.now() + durations.to_timedelta(step.params["timeout"])
        return Outcome(
            f"Waiting for status {' or '.join(codes)} until {_when(step, due)}.",
            kind="wait",
            wait_until=due,
            payload={"phase": "waiting", "codes": codes},
            detail={"due_at": due.isoformat()},
        )
