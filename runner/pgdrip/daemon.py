"""`pgdrip run`: schedule drives the poll and the daily sweep; LISTEN brings sub-second wake-ups."""

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

import psycopg
import schedule

from . import queries
from .cli_common import db_error_line
from .connect import connect
from .drain import Drainer, DrainStats
from .errors import PgdripError
from .senders import Sender
from .settings import RunSettings

log = logging.getLogger("pgdrip.run")

# A graceful stop waits this long for messages in flight; then it interrupts their sends (their
# rows are recorded for a retry), so the runner exits with no row left 'sending'.
STOP_SECONDS = 8.0


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class Wakeups:
    """Events set by the listener (and the schedule) and consumed by the main loop."""

    def __init__(self) -> None:
        self.due = threading.Event()
        self.any = threading.Event()

    def set_due(self) -> None:
        self.due.set()
        self.any.set()


class Listener(threading.Thread):
    """LISTENs on its own connection; reconnects with backoff when the database goes away.
    After a reconnect it asks for a dispatch and a drain, since notifications may have been missed."""

    def __init__(self, dsn: str, wakeups: Wakeups, on_outbox: Callable[[], None], stopping: threading.Event):
        super().__init__(name="listener", daemon=True)
        self.dsn, self.wakeups, self.on_outbox, self.stopping = dsn, wakeups, on_outbox, stopping
        self.connected = threading.Event()

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, application_name="pgdrip-listen",
                                     connect_timeout=10) as conn:
                    for statement in queries.LISTEN:
                        conn.execute(statement)
                    self.connected.set()
                    backoff = 0.5
                    self.wakeups.set_due()
                    self.on_outbox()
                    while not self.stopping.is_set():
                        for note in conn.notifies(timeout=1.0):
                            if note.channel == "drip_due":
                                self.wakeups.set_due()
                            else:
                                self.on_outbox()
                        # notifies() returns quietly on a dead connection in some versions: probe it
                        conn.execute(queries.PROBE)
            except psycopg.Error as exc:
                self.connected.clear()
                if self.stopping.is_set():
                    return
                log.warning("listener: connection lost (%s); reconnecting in %.1fs", str(exc).strip(), backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10)


class Maintenance(threading.Thread):
    """Keeps the database small and its report cheap, on its own connection so that a long prune
    never holds up dispatch: folds drip.step_stats every hour, and prunes what is older than
    PGDRIP_RETENTION_DAYS once a day (the first time a minute after start; 0 keeps everything)."""

    COMPACT_EVERY = 3600.0
    PRUNE_EVERY = 86400.0

    def __init__(self, dsn: str, settings: RunSettings, stopping: threading.Event) -> None:
        super().__init__(name="maintenance", daemon=True)
        self.dsn, self.settings, self.stopping = dsn, settings, stopping

    def run(self) -> None:
        next_compact = next_prune = time.monotonic() + 60
        while not self.stopping.wait(min(60.0, max(0.0, min(next_compact, next_prune) - time.monotonic()))):
            now = time.monotonic()
            if now >= next_compact:
                next_compact = now + self.COMPACT_EVERY
                self._call("step report compaction", queries.COMPACT_STEP_STATS, {})
            if now >= next_prune:
                next_prune = now + self.PRUNE_EVERY
                if self.settings.retention_days > 0:
                    self._call("prune", queries.PRUNE, {"days": self.settings.retention_days})

    def _call(self, what: str, statement: str, params: dict) -> None:
        started = time.monotonic()
        try:
            with connect(self.dsn) as conn:
                conn.add_notice_handler(lambda diag: log.debug("%s: %s", what, diag.message_primary))
                conn.execute(statement, params)
            log.info("%s done in %.1fs", what, time.monotonic() - started)
        except (psycopg.Error, PgdripError) as exc:
            log.warning("%s failed (%s); next time", what, " ".join(str(exc).split()))


class Runner:
    def __init__(self, dsn: str, settings: RunSettings, sender_factory: Callable[[], Sender],
                 drain_only: bool = False) -> None:
        self.dsn = dsn
        self.settings = settings
        self.sender_factory = sender_factory
        self.drain_only = drain_only  # pg_cron dispatches and sweeps; this runner only sends
        self.stopping = threading.Event()
        self._conn: psycopg.Connection | None = None
        # when the next enrollment falls due (time.monotonic()), so that mail due at a set time
        # (local midnight, a window opening) leaves then, not at the next poll
        self.next_due: float | None = None

    # -- database calls, each surviving a lost connection ---------------------------
    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self.dsn)
        return self._conn

    def _safely(self, what: str, fn: Callable[[psycopg.Connection], object]) -> bool:
        """Run fn on the runner's connection. The database being away (or refusing a statement) is
        logged with its cause, on one line, and reported as False: the caller tries again later,
        or --once exits non-zero. Anything else is a bug in pgdrip and is not swallowed here: it
        propagates, with its traceback."""
        try:
            fn(self._db())
            return True
        except PgdripError as exc:  # from connect: no connection at all
            log.warning("%s: database unavailable (%s); will retry", what, _one_line(exc))
        except psycopg.Error as exc:
            if exc.sqlstate is None:  # the connection failed under the statement
                log.warning("%s: database unavailable (%s); will retry", what, _one_line(exc))
            else:  # the server refused it (a lock timeout, an error raised in SQL): say why
                log.error("%s failed: %s [SQLSTATE %s]", what, db_error_line(exc), exc.sqlstate)
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        return False

    def dispatch(self) -> bool:
        if self.drain_only:
            return True
        started = time.monotonic()

        def work(conn: psycopg.Connection) -> None:
            conn.execute(queries.DISPATCH)
            wait = conn.execute(queries.NEXT_DUE).fetchone()["seconds"]
            self.next_due = None if wait is None else time.monotonic() + float(wait)

        ok = self._safely("dispatch", work)
        if ok:
            log.debug("dispatch done in %.3fs", time.monotonic() - started)
        return ok

    def sweep_if_due(self) -> bool:
        """Sweep every anniversary date still owed (today, and days missed while no runner ran,
        up to PGDRIP_SWEEP_CATCHUP_DAYS back) that no other runner has claimed: drip.sweep_due,
        the same procedure pg_cron calls. False if the sweep failed (logged with its cause; the
        failed date stays owed)."""
        swept: list = []
        if self.drain_only:
            return True

        def work(conn: psycopg.Connection) -> None:
            row = conn.execute(queries.SWEEP_DUE, {"catchup": self.settings.sweep_catchup_days,
                                                   "runner": self.settings.runner_name}).fetchone()
            swept.extend(row["swept"] or [])
            for day in swept:
                log.info("anniversary sweep done for %s", day)

        return self._safely("sweep", work)

    def heartbeat(self) -> None:
        self._safely("heartbeat", lambda c: c.execute(
            queries.HEARTBEAT, {"name": self.settings.runner_name, "host": socket.gethostname(), "pid": os.getpid()}))

    def _distributed(self) -> bool:
        """On Citus (its wake-ups reach no runner from inside a shard): the short poll."""
        distributed = False

        def work(conn: psycopg.Connection) -> None:
            nonlocal distributed
            distributed = conn.execute(queries.IS_DISTRIBUTED).fetchone()["distributed"]

        self._safely("layout check", work)
        return bool(distributed)

    # -- modes -------------------------------------------------------------------------
    def run_once(self) -> DrainStats:
        """One sweep, one dispatch, a drain until nothing is sendable. Any of them failing is a
        PgdripError (exit 1), after what could still be done was done: a failed sweep does not
        keep mail already due from going out. SIGTERM or SIGINT stops the drain as `run` stops."""
        swept = self.sweep_if_due()
        if not self.dispatch():
            raise PgdripError("run --once: the dispatch failed (see the log line above)")
        drainer = Drainer(self.dsn, self.settings, self.sender_factory)
        stopped: list[str] = []

        def on_signal(signum: int, _frame: object) -> None:
            stopped.append(signal.Signals(signum).name)
            log.info("received %s: finishing in-flight messages", stopped[-1])
            drainer.request_stop()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        stats = drainer.drain_until_empty()
        log.info("run --once: sent %d, retry %d, failed %d", stats.sent, stats.retried, stats.failed)
        if stopped:
            raise PgdripError(f"run --once: stopped by {stopped[0]} before the outbox was drained")
        if not swept:
            raise PgdripError("run --once: the anniversary sweep failed (see the log line above)")
        return stats

    def run_forever(self) -> None:
        wakeups = Wakeups()
        drainer = Drainer(self.dsn, self.settings, self.sender_factory)
        listener = Listener(self.dsn, wakeups, drainer.wake, self.stopping)

        def on_signal(signum: int, _frame: object) -> None:
            log.info("received %s: finishing in-flight messages", signal.Signals(signum).name)
            self.stopping.set()
            wakeups.any.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        poll_seconds = self.settings.poll_interval(self._distributed())
        jobs = schedule.Scheduler()
        jobs.every(poll_seconds).seconds.do(wakeups.set_due)
        jobs.every(1).minutes.do(self.sweep_if_due)  # each date is claimed by one runner, once
        jobs.every(30).seconds.do(self.heartbeat)

        self.heartbeat()
        self.sweep_if_due()
        drainer.start()
        listener.start()
        if not self.drain_only:
            Maintenance(self.dsn, self.settings, self.stopping).start()
        wakeups.set_due()
        log.info("runner %s started: poll every %ss, %d drain worker(s)", self.settings.runner_name,
                 poll_seconds, self.settings.workers)
        try:
            while not self.stopping.is_set():
                wakeups.any.wait(timeout=1.0)
                wakeups.any.clear()
                if self.stopping.is_set():
                    break
                if self.next_due is not None and time.monotonic() >= self.next_due:
                    self.next_due = None
                    wakeups.set_due()
                if wakeups.due.is_set():
                    wakeups.due.clear()
                    if self.dispatch():
                        drainer.wake()
                    else:
                        self.stopping.wait(1.0)
                        wakeups.set_due()  # try again: the database may be back
                jobs.run_pending()
        finally:
            # a bug that ends the loop still hands back what the workers hold
            self.stopping.set()
            drainer.stop(timeout=STOP_SECONDS)
            if self._conn is not None:
                self._conn.close()
        s = drainer.stats
        log.info("runner stopped: sent %d, retry %d, failed %d, released %d", s.sent, s.retried, s.failed,
                 s.released)
