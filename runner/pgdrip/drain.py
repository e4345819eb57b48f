"""The outbox drain: workers lease batches (SKIP LOCKED), send over their own reused sender
connection, and record results in batches."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from . import queries
from .connect import connect
from .errors import PgdripError
from .message import build_envelope
from .senders import PermanentFailure, Sender, TemporaryFailure
from .settings import RunSettings

log = logging.getLogger("pgdrip.drain")

# While it sends a leased batch, a worker asks the database at most this often which of the
# rest were cancelled meanwhile (a query per message would cost a round trip per message).
PRESEND_CHECK_SECONDS = 0.05


def _reason(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, n: int) -> None:
        with self.lock:
            setattr(self, outcome, getattr(self, outcome) + n)


class _Results:
    """Outcomes of one leased batch, written back in one statement per outcome."""

    def __init__(self) -> None:
        self.by_outcome: dict[str, tuple[list[int], list[str | None]]] = {}

    def add(self, outcome: str, row_id: int, error: str | None = None) -> None:
        ids, errors = self.by_outcome.setdefault(outcome, ([], []))
        ids.append(row_id)
        errors.append(error)

    def flush(self, conn: psycopg.Connection, runner: str, stats: DrainStats) -> None:
        names = {"sent": "sent", "retry": "retried", "failed": "failed", "release": "released"}
        for outcome, (ids, errors) in self.by_outcome.items():
            conn.execute(queries.FINISH_OUTBOX,
                         {"runner": runner, "ids": ids, "outcome": outcome, "errors": errors})
            if outcome == "retry":
                # a retry at the last attempt ends failed: count it so (rare, so a second look is cheap)
                gave_up = conn.execute(queries.COUNT_FAILED_AMONG, {"ids": ids}).fetchone()["n"]
                stats.add("failed", gave_up)
                stats.add("retried", len(ids) - gave_up)
                continue
            stats.add(names[outcome], len(ids))
        self.by_outcome.clear()


class Drainer:
    """Sends what is sendable. `drain_until_empty` for --once and tests; `start` for the daemon,
    whose workers sleep until `wake()` or a short timeout (to pick up retries that come due)."""

    def __init__(self, dsn: str, settings: RunSettings, sender_factory: Callable[[], Sender]) -> None:
        self.dsn = dsn
        self.settings = settings
        self.sender_factory = sender_factory
        self.stats = DrainStats()
        self.stopping = threading.Event()
        self._wakeup = threading.Condition()
        self._generation = 0
        self._threads: list[threading.Thread] = []
        self._senders: list[Sender] = []  # one per worker, to interrupt a send that blocks a stop
        self._senders_lock = threading.Lock()
        self.failures: list[BaseException] = []

    # -- one worker ------------------------------------------------------------
    def _work_once(self, conn: psycopg.Connection, sender: Sender) -> tuple[int, bool]:
        """Lease one batch and settle it. Returns how many rows were leased, and whether the
        shared send rate (PGDRIP_MAX_RATE) held this worker back."""
        s = self.settings
        limit = s.batch_size
        if s.max_rate:
            # at most one second's worth per claim, so the workers and runners share the rate
            want = min(s.batch_size, max(1, int(s.max_rate)))
            limit = conn.execute(queries.TAKE_SEND_TOKENS, {"rate": s.max_rate, "want": want}).fetchone()["n"]
            if limit == 0:
                return 0, True
        rows = conn.execute(queries.CLAIM_OUTBOX, {"runner": s.runner_name, "limit": limit,
                                                   "lease": s.lease_seconds}).fetchall()
        if s.max_rate and len(rows) < limit:
            conn.execute(queries.RETURN_SEND_TOKENS, {"rate": s.max_rate, "n": limit - len(rows)})
        if not rows:
            return 0, False
        results = _Results()
        try:
            self._send_batch(conn, sender, rows, results)
        finally:
            # what is known is recorded, even if the batch stopped short
            results.flush(conn, s.runner_name, self.stats)
        return len(rows), False

    def _send_batch(self, conn: psycopg.Connection, sender: Sender, rows: list[dict], results: "_Results") -> None:
        s = self.settings
        deadline = time.monotonic() + s.lease_seconds / 2
        checked = time.monotonic()  # the claim itself judged every row
        stopped: set[int] = set()
        for i, row in enumerate(rows):
            # Stopping, or half the lease gone: hand the rest back so nobody waits for the lease.
            if self.stopping.is_set() or time.monotonic() > deadline:
                for rest in rows[i:]:
                    results.add("release", rest["id"])
                return
            # Rows cancelled while in flight (an unsubscribe, a bounce, a goal) are not sent.
            if time.monotonic() - checked >= PRESEND_CHECK_SECONDS:
                stopped |= {r["id"] for r in conn.execute(
                    queries.UNSENDABLE, {"runner": s.runner_name, "ids": [r["id"] for r in rows[i:]]})}
                checked = time.monotonic()
            if row["id"] in stopped:
                log.info("outbox %s not sent: cancelled while it was leased", row["id"])
                continue
            self._send_one(sender, row, results)

    def _send_one(self, sender: Sender, row: dict, results: "_Results") -> None:
        """One message: whatever it does, it settles only its own row (behaviour 15)."""
        try:
            envelope = build_envelope(row, self.settings)
        except Exception as exc:  # a row that cannot become a message fails alone
            reason = f"cannot build the message: {_reason(exc)}"
            results.add("failed", row["id"], reason)
            log.warning("outbox %s failed: %s", row["id"], reason)
            return
        try:
            sender.send(envelope)
            results.add("sent", row["id"])
        except PermanentFailure as exc:
            results.add("failed", row["id"], str(exc))
            log.warning("outbox %s failed permanently: %s", row["id"], exc)
        except TemporaryFailure as exc:
            results.add("retry", row["id"], str(exc))
            log.info("outbox %s will be retried: %s", row["id"], exc)
        except Exception as exc:  # an unexpected error in one send (the sender has reset itself)
            reason = f"unexpected error while sending: {_reason(exc)}"
            results.add("retry", row["id"], reason)
            log.warning("outbox %s will be retried: %s", row["id"], reason)

    def _worker(self, until_empty: bool) -> None:
        sender = self.sender_factory()
        with self._senders_lock:
            self._senders.append(sender)
        conn: psycopg.Connection | None = None
        seen = -1
        backoff = 0.5
        try:
            while not self.stopping.is_set():
                try:
                    if conn is None or conn.closed:
                        conn = connect(self.dsn)
                    leased, throttled = self._work_once(conn, sender)
                    backoff = 0.5
                except Exception as exc:  # the database or the network went away, or a bug
                    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | PgdripError):
                        log.warning("drain: database unavailable (%s); retrying in %.1fs", str(exc).strip(), backoff)
                    else:
                        log.exception("drain worker error")
                    if conn is not None:
                        conn.close()
                    conn = None
                    if until_empty:  # --once: report the failure instead of waiting for the database
                        self.failures.append(exc)
                        return
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 10)
                    continue
                if leased:
                    continue
                if throttled:  # the shared rate is spent for now: wait for a token, then go on
                    self.stopping.wait(min(1.0, max(0.02, 1 / (self.settings.max_rate or 1))))
                    continue
                if until_empty:
                    return
                with self._wakeup:
                    if seen == self._generation:
                        self._wakeup.wait(timeout=5)
                    seen = self._generation
        finally:
            sender.close()
            if conn is not None:
                conn.close()

    # -- the pool ----------------------------------------------------------------
    def drain_until_empty(self, stop_timeout: float = 8.0) -> DrainStats:
        """Run the workers until nothing is sendable right now (or request_stop())."""
        done = threading.Semaphore(0)

        def worker() -> None:
            try:
                self._worker(True)
            finally:
                done.release()

        self._threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.settings.workers)]
        for t in self._threads:
            t.start()
        finished = 0
        while finished < len(self._threads):
            if done.acquire(timeout=0.1):
                finished += 1
            elif self.stopping.is_set():  # SIGTERM (run_once's handler): stop as the daemon does
                self.stop(stop_timeout)
                break
        if self.failures:
            raise PgdripError(f"the drain stopped: {str(self.failures[0]).strip()}")
        return self.stats

    def start(self) -> None:
        for i in range(self.settings.workers):
            t = threading.Thread(target=self._worker, args=(False,), name=f"drain-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        with self._wakeup:
            self._generation += 1
            self._wakeup.notify_all()

    def request_stop(self) -> None:
        """From a signal handler: the workers finish the message in hand and hand back the rest."""
        self.stopping.set()

    def stop(self, timeout: float = 8.0) -> None:
        """Stop the workers: each finishes the message it is sending and hands back the rest of
        its batch. A send still blocked after `timeout` (a mail server that stopped answering) is
        interrupted: its row is recorded for a retry, like any lost connection, so that no row is
        left 'sending' when the runner exits (behaviour 15)."""
        self.stopping.set()
        self.wake()
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, end - time.monotonic()))
        stuck = [t for t in self._threads if t.is_alive()]
        if not stuck:
            return
        log.warning("stopping: %d worker(s) still sending after %.0fs; interrupting their sends", len(stuck), timeout)
        with self._senders_lock:
            senders = list(self._senders)
        for sender in senders:
            abort = getattr(sender, "abort", None)
            if abort is not None:
                abort()
        end = time.monotonic() + 5.0
        for t in stuck:
            t.join(max(0.0, end - time.monotonic()))
        left = sum(t.is_alive() for t in stuck)
        if left:
            log.error("stopping: %d worker(s) did not stop; their rows come back when their lease ends", left)
