"""The views catch up after submissions in one thread per process, off the writers' path.

A catch-up costs a few queries and a transaction however few entries it applies. Run after every
submission, as the server closed each answer, it competed with the next writer for the database
and the two cores: on a 1,000,174-entry PostgreSQL ledger, single submissions one after another
took p50 27 ms and p99 61-69 ms that way, against p50 11 ms and p99 21 ms with no catch-up at all
(docs/benchmarks.md). Woken after a submission, this thread waits `GATHER_S` for more to come and
then catches up once for all of them. Readers are not affected: every read catches the views up
first, so a reader always sees its own write whether or not this thread has run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("amanah.api")

GATHER_S = 0.2  # how long a woken follower waits for more submissions before it catches up
STOP_WAIT_S = 30.0  # how long closing waits for a catch-up under way
IDLE_EXIT_S = 10.0  # a thread with nothing to do this long ends (the next submission starts another)


class ViewsFollower:
    """Catches the views up (`catch_up`) soon after submissions are stored (`stored`)."""

    def __init__(self, catch_up: Callable[[], object], gather_s: float = GATHER_S, idle_exit_s: float = IDLE_EXIT_S):
        self._catch_up, self.gather_s, self.idle_exit_s = catch_up, gather_s, idle_exit_s
        self._condition = threading.Condition()
        self._pending: tuple[int, int] | None = None  # first and last entry stored since the last catch-up began
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive (it ends after `idle_exit_s` with nothing to do)."""
        with self._condition:
            return self._thread is not None and self._thread.is_alive()

    def stored(self, first_index: int, last_index: int) -> None:
        """Entries `first_index`..`last_index` are stored: catch the views up soon."""
        with self._condition:
            if self._stopping:
                return
            pending = self._pending
            self._pending = (first_index, last_index) if pending is None else (
                min(pending[0], first_index), max(pending[1], last_index))
            if self._thread is None:  # started on first use: in the server's worker, after the fork
                self._thread = threading.Thread(target=self._run, name="amanah-views", daemon=True)
                self._thread.start()
            self._condition.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Whether, within `timeout_s`, every stored submission's catch-up ran (none pending or under way)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._pending is None and not self._busy, timeout_s)

    def stop(self) -> None:
        """Stop the thread (a catch-up under way finishes first); pending entries are left to the
        next read or `amanah projections run`."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=STOP_WAIT_S)

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._condition.wait_for(lambda: self._pending is not None or self._stopping, self.idle_exit_s):
                    self._thread = None  # idle: end, holding nothing (an app never closed keeps no thread)
                    return
                # gather: more submissions may come while this one's answer is on its way
                if self._stopping or self._condition.wait_for(lambda: self._stopping, self.gather_s):
                    return
                entries, self._pending, self._busy = self._pending, None, True
            try:
                self._catch_up()
            except Exception:  # noqa: BLE001 - the submissions are stored; the log keeps the failure
                logger.exception("the views could not catch up after entries %s..%s were stored; they will on "
                                 "the next read or `amanah projections run`", *entries)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()
