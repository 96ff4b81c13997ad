"""The projection runner: reads the log in batches and applies them to the views exactly once.

Position = the next log index to apply (the log's dense 0-based index, the same numbering
auditors see). Each batch is applied and the position advanced in one transaction whose first
statement locks the tracking row, so a crash at any moment loses or repeats nothing, and a
second runner waits, sees the advanced position, and skips what was applied.
Views only advance to the latest signed checkpoint, so every read model corresponds to a
checkpoint that a statement can cite."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.engine import Connection, Engine

from ledger.errors import LogBusy, is_lock_timeout
from ledger.private_files import private_database_file
from projections import tables as t
from projections.projector import Projector

NAME = "amanah-views"
SCHEMA = "amanah-views-schema"  # its position holds the tables' SCHEMA_VERSION
DEFAULT_BATCH = 1000
# A rebuild applies this many entries per transaction: nobody waits on the views while they are
# rebuilt, and each transaction has a fixed cost (the tracking row, balances, attribution).
REBUILD_BATCH = 10_000
ANALYZE_AFTER = 50_000  # a run that applied this many entries refreshes the planner's statistics
logger = logging.getLogger("amanah.views")


class ViewsBehind(LogBusy):
    """The views could not be brought up to the latest checkpoint: a figure computed now would be
    stale, so none is signed. The next run retries."""

    code = "views-behind"


def views_engine(database_url: str) -> Engine:
    """A SQLAlchemy engine for the views: the ledger's own database unless told otherwise."""
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        if url.path not in ("", "/", "/:memory:"):
            private_database_file(Path(unquote(url.path.removeprefix("/"))))  # 0600, as the ledger's
        engine = create_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:  # pragma: no cover - trivial
            connection.execute("PRAGMA journal_mode=WAL")
            # Views are derived: a commit lost to a power cut is applied again from the log (the
            # position moves in the same transaction), so they need not wait for fsync.
            connection.execute("PRAGMA synchronous=NORMAL")

        return engine
    schema = parse_qs(url.query).get("schema", [None])[0]
    plain = url._replace(scheme="postgresql+psycopg", query="").geturl()
    engine = create_engine(plain, pool_pre_ping=True)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction one process at a time holds, for creating what is missing: server workers
    start at the same moment, and two that both found a table or row missing would both create
    it, and one would fail to boot."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, held until commit
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": NAME})
        yield connection


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Apply a batch with the cyclic garbage collector paused: a batch's parsed entries are
    hundreds of thousands of dicts that live until it is applied, and the collector walked them
    again and again (a third of a rebuild's CPU time). They form no cycles: reference counting
    frees them when the batch is done, and the collector runs again after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _create_indexes(connection: Connection) -> None:
    for index in t.SECONDARY_INDEXES:
        index.create(connection, checkfirst=True)


class ProjectionRunner:
    """Catches the views up with the log; safe to run in several processes at once."""

    def __init__(self, ledger, database_url: str | None = None, batch_size: int = DEFAULT_BATCH):
        assert 1 <= batch_size <= REBUILD_BATCH
        self.ledger = ledger
        self.engine = views_engine(database_url or ledger.settings.views_url)
        self.batch_size = batch_size
        self.projector = Projector()
        self.applied_to: int | None = None  # where this runner's caches are true up to
        # The server's threads share one runner: its projector caches and `applied_to` are
        # changed by one catch-up at a time (other processes are kept out by the tracking row).
        self.lock = threading.RLock()
        self.create()

    def create(self) -> None:
        """Create the view tables and the tracking rows if missing; views of an older table layout
        are dropped and rebuilt from the log (they are derived, nothing is lost)."""
        with schema_lock(self.engine) as connection:
            t.tracking.create(connection, checkfirst=True)
            version = connection.execute(select(t.tracking.c.position).where(t.tracking.c.name == SCHEMA)).scalar()
            if version is not None and version != t.SCHEMA_VERSION or version is None and self._has_old_views(connection):
                for table in [*reversed(t.VIEW_TABLES), t.failures]:
                    table.drop(connection, checkfirst=True)
                connection.execute(t.tracking.delete())
            t.metadata.create_all(connection)
            _create_indexes(connection)  # a rebuild killed midway left them dropped
            for name, position in ((NAME, 0), (SCHEMA, t.SCHEMA_VERSION)):
                if connection.execute(select(t.tracking.c.position).where(t.tracking.c.name == name)).first() is None:
                    connection.execute(t.tracking.insert().values(name=name, position=position))

    @staticmethod
    def _has_old_views(connection: Connection) -> bool:
        """Views made before the schema was versioned (their tracking row has no schema row)."""
        return connection.execute(select(t.tracking.c.name).where(t.tracking.c.name == NAME)).first() is not None

    def position(self) -> int:
        """How many log entries the views include."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(t.tracking.c.position).where(t.tracking.c.name == NAME)).scalar_one())

    def target(self) -> int:
        """The size of the latest signed checkpoint (views never run ahead of one)."""
        checkpoint = self.ledger.latest_checkpoint()
        return checkpoint["tree_size"] if checkpoint else 0

    def run(self, progress: Callable[[int, int], None] | None = None, limit_batches: int | None = None) -> int:
        """Apply every entry up to the latest checkpoint; returns how many this call applied.

        A batch that fails is rolled back and its error kept (see `failure()`), and this call
        stops there: the views stay at the last good position, say why, and the next call
        retries. It never raises for a batch that fails."""
        with self.lock:
            return self._run(progress, limit_batches)

    def _run(self, progress: Callable[[int, int], None] | None, limit_batches: int | None,
             batch_size: int | None = None) -> int:
        applied, batches = 0, 0
        target = self.target()
        while limit_batches is None or batches < limit_batches:
            start = self.position()
            if start >= target:
                break
            try:
                with without_cycle_collection():
                    done = self._one_batch(start, min(start + (batch_size or self.batch_size), target))
            except Exception as error:  # noqa: BLE001 - any failure must be kept and shown, never lost
                if is_lock_timeout(error):  # busy, not broken: another runner holds the views' lock
                    logger.info("views busy at entry %s (another runner is applying); the next run goes on", start)
                    break
                self._record_failure(start, error)
                break
            batches += 1
            applied += done or 0
            if progress:
                progress(self.position(), target)
        if applied >= ANALYZE_AFTER and self.engine.dialect.name == "postgresql":
            self._refresh_statistics()
        return applied

    def _refresh_statistics(self) -> None:
        """ANALYZE the views after a bulk catch-up: their statistics stay stale until autovacuum's
        next ANALYZE (never, with it off). At 1,000,174 entries a cold company statement took 15.2 s
        (a nested loop over 923,076 rows estimated at 577), 6.2 s after. Never changes an answer."""
        schema = (self.engine.get_execution_options().get("schema_translate_map") or {}).get(None)
        quote = self.engine.dialect.identifier_preparer.quote
        names = ", ".join(f"{quote(schema)}.{quote(table.name)}" if schema else quote(table.name) for table in t.VIEW_TABLES)
        try:
            with self.engine.begin() as connection:
                connection.exec_driver_sql(f"ANALYZE {names}")
        except Exception as error:  # noqa: BLE001 - an optimisation: the views are right without it
            logger.warning("ANALYZE of the views failed (%s); their queries keep the older statistics", error)

    def _one_batch(self, start: int, stop: int) -> int | None:
        """Apply entries `start` to `stop` in one transaction; None when another runner applied
        them first."""
        entries = self.ledger.replayable(start, stop)
        try:
            with self.engine.begin() as connection:
                if not self._claim(connection, start):
                    self.projector.reset()
                    return None
                if self.applied_to != start:  # another runner applied entries since: caches are stale
                    self.projector.reset()
                self.projector.apply(connection, entries)
                connection.execute(update(t.tracking).where(t.tracking.c.name == NAME)
                                   .values(position=start + len(entries)))
                connection.execute(t.failures.delete().where(t.failures.c.name == NAME))
        except BaseException:
            self.projector.reset()  # caches may hold rows of the rolled-back batch
            self.applied_to = None
            raise
        self.applied_to = start + len(entries)
        return len(entries)

    @staticmethod
    def _claim(connection: Connection, start: int) -> bool:
        """Lock the tracking row (a write first, so SQLite takes its write lock too) and check
        that nobody advanced it since we read `start`."""
        connection.execute(update(t.tracking).where(t.tracking.c.name == NAME).values(position=t.tracking.c.position))
        current = connection.execute(select(t.tracking.c.position).where(t.tracking.c.name == NAME)).scalar_one()
        return int(current) == start

    def _record_failure(self, position: int, error: Exception) -> None:
        """Keep the error in its own transaction (the batch's was rolled back)."""
        message = f"{type(error).__name__}: {error}".splitlines()[0][:2000]
        logger.error("views stopped at entry %d: %s", position, message)
        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        try:
            with self.engine.begin() as connection:
                row = connection.execute(select(t.failures).where(t.failures.c.name == NAME)).first()
                attempts = (row.attempts + 1) if row is not None and row.position == position else 1
                connection.execute(t.failures.delete().where(t.failures.c.name == NAME))
                connection.execute(t.failures.insert().values(name=NAME, position=position, failed_at=now,
                                                              error=message, attempts=attempts))
        except Exception:  # noqa: BLE001 - the database itself may be what failed; the log line stays
            logger.exception("could not record the views' failure")

    def failure(self) -> dict | None:
        """The views' last failure not yet cleared by a good batch: where, when, why, how often."""
        with self.engine.connect() as connection:
            row = connection.execute(select(t.failures).where(t.failures.c.name == NAME)).first()
        if row is None:
            return None
        return {"position": int(row.position), "failed_at": row.failed_at, "error": row.error,
                "attempts": int(row.attempts)}

    def status(self) -> dict:
        """How far the views are, the checkpoint they aim at, and their last failure if any."""
        position, target = self.position(), self.target()
        return {"views_position": position, "views_target": target, "views_behind": max(target - position, 0),
                "views_error": self.failure()}

    def require_current(self) -> None:
        """Raise ViewsBehind when the last run stopped at a failure (a run that did not fail
        stopped at a signed checkpoint, so the views are fit to sign from)."""
        failure = self.failure()
        if failure is not None:
            raise ViewsBehind(f"the views stopped at entry {failure['position']} of {self.target()}: "
                              f"{failure['error']} ({failure['failed_at']}); the next run retries", field="views")

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Drop every view and apply the whole log again.

        The views' secondary indexes are dropped first and built again at the end: building an
        index from its finished table sorts once, where keeping it up to date inserts row by
        row into a B-tree of random keys (worker ids). Applying reads by primary key only. If
        this is killed midway, `create()` builds the missing indexes at the next start."""
        with self.lock:
            with self.engine.begin() as connection:
                connection.execute(update(t.tracking).where(t.tracking.c.name == NAME).values(position=0))
                for index in t.SECONDARY_INDEXES:
                    index.drop(connection, checkfirst=True)
                for table in reversed(t.VIEW_TABLES):
                    connection.execute(table.delete())
            self.projector.reset()
            self.applied_to = None
            try:
                return self._run(progress, None, batch_size=REBUILD_BATCH)
            finally:
                with self.engine.begin() as connection:
                    _create_indexes(connection)

    def dump(self) -> dict[str, list[tuple]]:
        """Every view's rows, sorted: for comparing an incremental build with a rebuild."""
        result = {}
        with self.engine.connect() as connection:
            for table in t.VIEW_TABLES:
                rows = connection.execute(select(table)).all()
                result[table.name] = sorted(tuple(row) for row in rows)
        return result

    def close(self) -> None:
        self.engine.dispose()

