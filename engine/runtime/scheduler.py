"""Running an engine for a long time: APScheduler 3 as the in-process tick.

The scheduler only decides *when* the engine looks for work: a poll job that wakes
the pump, the pump (ingest and dispatch until idle, scheduled once per wake), a
heartbeat, all in memory. Nothing durable lives in its job store (APScheduler 3's
stores must not be shared between processes): waits are rows with a due time. When
the pump goes idle it asks when the next item falls due and wakes itself then, so a
wait fires on time rather than at the next poll. On PostgreSQL a listener thread
wakes the pump as soon as the event trigger (or an engine that left work due now)
sends NOTIFY; polling stays as the fallback.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from types import FrameType

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.runtime.engine import Engine
from engine.sources.triggers import NOTIFY_CHANNEL

log = logging.getLogger("statusflow.engine")

PUMP = "pump"
POLL = "poll"
DUE = "due"  # a one-off wake when the next work item falls due
MAX_ROUNDS_PER_WAKE = 200  # then start again, so a stop request is seen between rounds


class EngineRunner:
    """Ticks an engine on a scheduler, in the foreground or on a background thread."""

    def __init__(
        self, engine: Engine, *, poll_seconds: float = 1.0, heartbeat_seconds: float = 5.0
    ) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.scheduler: BaseScheduler | None = None
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self._pumping = threading.Lock()  # held while a tick runs; stop waits for it
        self._woken = threading.Event()  # work may have come in since the pump last looked
        self._foreground = False

    def _configure(self, scheduler: BaseScheduler) -> BaseScheduler:
        scheduler.add_job(
            self.wake,
            "interval",
            seconds=self.poll_seconds,
            id=POLL,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            self.engine.heartbeat,
            "interval",
            seconds=self.heartbeat_seconds,
            id="heartbeat",
            max_instances=1,
            coalesce=True,
        )
        return scheduler

    def pump(self) -> None:
        """Work until nothing is due (or the round limit), then sleep until the next
        item falls due, a wake, or the next poll, whichever comes first."""
        with self._pumping:
            try:
                self._work()
            except Exception:  # keep the engine alive; the next tick tries again
                log.exception("engine tick failed")
        if self._woken.is_set():  # a wake came while this pump was finishing
            self._run_pump_now()

    def _work(self) -> None:
        for _ in range(MAX_ROUNDS_PER_WAKE):
            self._woken.clear()
            if self._stop.is_set():
                return
            if not self.engine.tick().busy and not self._woken.is_set():
                self._wake_when_due()
                return
        self._woken.set()  # still busy: go on after this pump has returned

    def _wake_when_due(self) -> None:
        due = self.engine.next_due()
        if due is None or self.scheduler is None or not self.scheduler.running:
            return
        if due - self.engine.clock.now() < timedelta(seconds=self.poll_seconds):
            self.scheduler.add_job(
                self.wake,
                "date",
                run_date=due,
                id=DUE,
                replace_existing=True,
                misfire_grace_time=None,
            )

    def wake(self) -> None:
        """Run the pump now instead of at the next poll (or once more, if it is running)."""
        self._woken.set()
        if not self._pumping.locked():
            self._run_pump_now()

    def _run_pump_now(self) -> None:
        """Schedule a pump (wakes before it starts make one); a wake while a pump runs
        makes that one go on instead."""
        if self._stop.is_set() or self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self.pump,
            id=PUMP,
            replace_existing=True,
            # a pump that just finished may still be returning while the next one starts
            # and a wake comes before it takes the lock: the extra one waits its turn
            max_instances=3,
            misfire_grace_time=None,
        )

    # -- NOTIFY ----------------------------------------------------------------------

    def _listen(self) -> None:
        url = self.engine.db.url.set(drivername="postgresql").render_as_string(False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except psycopg.Error as exc:  # the server restarted: polling covers the gap
                log.warning("listening for status events failed (%s); retrying", exc)
                self._stop.wait(2.0)

    def _start_listener(self) -> None:
        if self.engine.db.is_postgresql:
            self._listener = threading.Thread(target=self._listen, name="sf-notify", daemon=True)
            self._listener.start()

    # -- life cycle ------------------------------------------------------------------

    def run_forever(self) -> None:
        """Run in the foreground until SIGTERM or Ctrl-C, then stop gracefully."""
        self.engine.start()
        self._foreground = True
        self.scheduler = self._configure(BlockingScheduler(timezone=UTC))
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self._start_listener()
        try:
            self.scheduler.start()
        finally:
            self._shutdown()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """Stop from a thread of its own: the signal may interrupt the main thread while
        it holds a lock that stopping takes (the scheduler's pool, logging), and a
        handler that waited for it would wait forever."""
        name = signal.Signals(signum).name
        threading.Thread(target=self._stop_on, args=(name,), name="sf-stop").start()

    def _stop_on(self, signal_name: str) -> None:
        log.info("received %s; finishing the current step", signal_name)
        self.stop()

    def start_background(self) -> None:
        """Run on a background thread (the designer's embedded engine)."""
        self.engine.start()
        self.scheduler = self._configure(BackgroundScheduler(timezone=UTC))
        self.scheduler.start()
        self._start_listener()

    def stop(self) -> None:
        """Finish the step in hand, give back claimed items, mark the engine stopped."""
        self._stop.set()
        self.engine.stopping = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not self._foreground:
            self._shutdown()  # run_forever does this itself when the scheduler returns

    def _shutdown(self) -> None:
        with self._pumping:  # the step in hand finishes; claimed items were given back
            if self._listener is not None:
                self._listener.join(timeout=3)
            self.engine.stop()
