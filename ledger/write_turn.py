"""One writer at a time decides and appends: the turn that keeps concurrent writers from starving.

A submission is decided against the log's head and appended at it; a writer that finds the head
moved (another appended first) decides again. Left to race, a writer on a loaded machine could lose
to the others every time and answer 503 `log-busy` (seen in CI: eight writer processes, four
server workers, a pair of clients sending the same submission lost 20 races in a row). So every
writer takes the turn before it reads the head and gives it back after its transaction commits:
no work is decided twice, and a large premium batch is not starved by a stream of small pledges.

The turn crosses processes (server workers, the command line, the importer):
- SQLite: an exclusive `flock` on a file of its own beside the database (`<db>.write-turn`). Never
  the database file itself: closing a descriptor of a file SQLite has open drops SQLite's POSIX
  locks (https://www.sqlite.org/howtocorrupt.html 2.2). A SQLite database has one host, as this lock.
- PostgreSQL: a session advisory lock on a connection of the turn's own, so it holds across
  hosts. PostgreSQL queues lock waiters first come, first served.
Threads of one process queue on a threading lock first. A writer that waits longer than the
lock timeout (`AMANAH_LOCK_TIMEOUT_S`) answers 503 `log-busy` and has stored nothing. A process
that dies holding the turn gives it back with its descriptor or its connection.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import LogBusy, is_lock_timeout
from ledger.private_files import OWNER_ONLY_FILE

if TYPE_CHECKING:  # psycopg comes with the server extra; only a PostgreSQL ledger imports it
    import psycopg

ADVISORY_KEY = "amanah-write-turn"  # hashed by PostgreSQL's hashtext into the advisory lock's key
CONNECT_TIMEOUT_S = 10
FIRST_POLL_S, LAST_POLL_S = 0.0005, 0.01


class WriteTurn:
    """Held around deciding and appending one submission; see the module's docstring."""

    def __init__(self, env: dict[str, str], timeout_s: float):
        self.timeout_s = timeout_s
        self._threads = threading.Lock()
        self._sqlite_path = _sqlite_turn_path(env)
        self._postgres = _postgres_parameters(env)
        self._advisory_key = f"{ADVISORY_KEY}:{env.get('POSTGRES_SCHEMA', 'public')}"  # one turn per ledger
        self._descriptor: int | None = None
        self._connection: psycopg.Connection | None = None
        self._opened_by = os.getpid()

    @contextmanager
    def held(self) -> Iterator[None]:
        deadline = time.monotonic() + self.timeout_s
        if not self._threads.acquire(timeout=self.timeout_s):
            raise self._busy()
        try:
            self._forget_if_forked()
            if self._sqlite_path is not None:
                with self._file_lock(deadline):
                    yield
            elif self._postgres is not None:
                with self._advisory_lock(deadline):
                    yield
            else:
                yield  # an in-memory database: one process, and the threading lock is enough
        finally:
            self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._descriptor is not None:
                os.close(self._descriptor)
                self._descriptor = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _busy(self) -> LogBusy:
        return LogBusy(f"other writers held the log for more than {self.timeout_s:g} s; nothing was "
                       "stored, send the same submission again")

    def _forget_if_forked(self) -> None:
        """A child of the process that opened the lock file or connection must not share them: a
        shared open file holds one flock for both, and a shared connection is not safe to use."""
        if self._opened_by != os.getpid():
            self._descriptor, self._connection, self._opened_by = None, None, os.getpid()

    @contextmanager
    def _file_lock(self, deadline: float) -> Iterator[None]:
        if self._descriptor is None:
            self._descriptor = os.open(self._sqlite_path, os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE)
        pause = FIRST_POLL_S
        while True:
            try:
                fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise self._busy() from None
                time.sleep(pause)
                pause = min(pause * 2, LAST_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    @contextmanager
    def _advisory_lock(self, deadline: float) -> Iterator[None]:
        import psycopg

        connection = self._open_connection()
        wait_ms = max(1, int((deadline - time.monotonic()) * 1000))
        try:
            connection.execute(f"SET lock_timeout = {wait_ms}")
            connection.execute("SELECT pg_advisory_lock(hashtext(%s))", [self._advisory_key])
        except psycopg.Error as error:
            self._drop_connection()
            if is_lock_timeout(error):
                raise self._busy() from None
            raise
        try:
            yield
        finally:
            try:
                connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", [self._advisory_key])
            except psycopg.Error:
                self._drop_connection()  # closing the session gives the lock back

    def _open_connection(self) -> psycopg.Connection:
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(**self._postgres, autocommit=True,
                                               connect_timeout=CONNECT_TIMEOUT_S)
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def _sqlite_turn_path(env: dict[str, str]) -> Path | None:
    name = env.get("SQLITE_DBNAME")
    if name is None or name == ":memory:" or name.startswith("file::memory:"):
        return None
    path = Path(name)
    return path.with_name(path.name + ".write-turn")


def _postgres_parameters(env: dict[str, str]) -> dict[str, object] | None:
    if "POSTGRES_DBNAME" not in env:
        return None
    return {"dbname": env["POSTGRES_DBNAME"], "host": env["POSTGRES_HOST"], "port": int(env["POSTGRES_PORT"]),
            "user": env["POSTGRES_USER"], "password": env["POSTGRES_PASSWORD"]}
