"""The PostgreSQL application recorder: the log's tables in the datastore's schema, appended in
the insert transaction and guarded by triggers. Needs psycopg (the server extra)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from ledger import log_schema, log_store, snapshot_store
from ledger.errors import ConfigurationError
from ledger.log_store import Dialect
from ledger.recorders import SCHEMA_LOCK, LogLayout, busy_is_named

T = TypeVar("T")
CONNECT_TIMEOUT_S = 10


class LedgerPostgresRecorder(LogLayout, PostgresApplicationRecorder):
    """PostgreSQL: the same tables in the datastore's schema, guarded by triggers."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        with _setup_connection(datastore) as connection, connection.transaction():  # before the pool is used
            connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SCHEMA_LOCK])
            _create_schema(connection, datastore.schema)
        super().__init__(datastore, **kwargs)
        schema = self.datastore.schema
        self.dialect = Dialect("postgres", "%s", lambda table: f'"{schema}"."{table}"',
                               "bytea", "bigint", f'"{schema}"."{self.events_table_name}"', "::uuid", "uuid")
        self.sql_create_statements += [SQL(s) for s in self._log_statements(schema)]

    def create_table(self) -> None:
        """Create what is missing, one process at a time. Server workers start together, and
        concurrent CREATE OR REPLACE of the same function and triggers deadlock in PostgreSQL;
        concurrent CREATE TYPE or CREATE SCHEMA fail. So every statement runs under one advisory
        lock, on a connection of its own that also tells a set-up problem apart."""
        with _setup_connection(self.datastore) as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SCHEMA_LOCK])
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    try:
                        with connection.transaction():  # a savepoint: CREATE TYPE has no IF NOT EXISTS
                            connection.execute(statement, prepare=False)
                    except psycopg.errors.DuplicateObject:
                        pass
                else:
                    connection.execute(statement, prepare=False)
        self.datastore.register_type_adapters()

    def _log_statements(self, schema: str) -> list[str]:
        function = f'"{schema}".amanah_refuse_change'
        statements = log_schema.create_statements(self.dialect) + snapshot_store.create_statements(self.dialect)
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION USING MESSAGE = 'amanah: ' || TG_TABLE_NAME || "
            "' is append-only'; END $$"
        )
        for table in (self.events_table_name, *log_store.APPEND_ONLY_TABLES):
            qualified = f'"{schema}"."{table}"'
            statements += [
                f"CREATE OR REPLACE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE "
                f"ON {qualified} FOR EACH ROW EXECUTE FUNCTION {function}()",
                f"CREATE OR REPLACE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE "
                f"ON {qualified} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
        return statements

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """The library's insert, without pipeline mode: with a batch of thousands of ~1 kB
        leaves, psycopg's pipeline stalls on sync (measured here: a 5,000-event enrolment never
        returned). One transaction, the same table lock and notification, events then log rows.
        The events go as binary arrays rather than the library's text-encoded composite values
        (escaped value by value), and no notification ids are read back: nothing here reads
        eventsourcing's notification log (the log's own tables are the record)."""
        with busy_is_named(), self.datastore.get_connection() as connection, connection.transaction(), \
                connection.cursor() as cursor:
            self._insert_events(cursor, stored_events, **kwargs)
            self._lock_table(cursor)
            self._notify_channel(cursor)
            log_store.insert_events(cursor, self.dialect, stored_events)
            log_store.append(cursor, self.dialect, stored_events, self._with_layout(cursor, kwargs["append_request"]))

    def read(self, query: Callable[[Any, Dialect], T]) -> T:
        """Run `query(cursor, dialect)` in a read-only transaction."""
        with busy_is_named(), self.datastore.transaction(commit=False) as cursor:
            return query(cursor, self.dialect)

    def write(self, command: Callable[[Any, Dialect], T]) -> T:
        """Run `command(cursor, dialect)` under the same table lock appends take."""
        with busy_is_named(), self.datastore.transaction(commit=True) as cursor:
            self._lock_table(cursor)
            return command(cursor, self.dialect)

    def erase(self, command: Callable[[Any, Dialect], T]) -> tuple[T, str]:
        """Run a deletion; returns its result and its transaction id, for `scrub`."""
        def run(cursor: Any, dialect: Dialect) -> tuple[T, str]:
            result = command(cursor, dialect)
            cursor.execute("SELECT pg_current_xact_id()::text AS xid")
            return result, str(int(cursor.fetchone()["xid"]) % 2**32)

        return self.write(run)

    def scrub(self, horizon: str) -> list[str]:
        """Rewrite the personal tables (VACUUM FULL) so that no dead tuple keeps a destroyed key,
        ciphertext or index row in the table files. VACUUM keeps the rows an older snapshot may
        still see: while a transaction, prepared transaction or replication slot older than the
        deletion `horizon` (its transaction id) exists, this returns what holds it and leaves the
        rewrite for a later call; once none does, every later snapshot is newer and the rewrite
        removes the rows for good."""
        with self.datastore.get_connection() as connection:
            connection.autocommit = True
            try:
                holders = _older_snapshots(connection, horizon)
                if not holders:
                    for table in log_store.PERSONAL_TABLES:
                        connection.execute(f"VACUUM FULL {self.dialect.qualify(table)}")
            finally:
                connection.autocommit = False
        return holders


def _older_snapshots(connection: Any, horizon: str) -> list[str]:
    """What could still see rows deleted by transaction `horizon`: sessions of this database whose
    snapshot or transaction is as old (and sessions this role may not inspect), prepared
    transactions and replication slots."""
    sessions = connection.execute(
        "SELECT pid, xact_start, state, query = '<insufficient privilege>' AS hidden FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND (datname = current_database() OR datname IS NULL) AND ("
        "query = '<insufficient privilege>' "
        "OR backend_xmin IS NOT NULL AND age(backend_xmin) >= age(%s::xid) "
        "OR backend_xid IS NOT NULL AND age(backend_xid) >= age(%s::xid))", (horizon, horizon)).fetchall()
    holders = [f"session pid {row['pid']} cannot be inspected by this role (grant pg_read_all_stats)"
               if row["hidden"] else f"session pid {row['pid']} ({row['state']}, transaction started "
               f"{row['xact_start'].isoformat() if row['xact_start'] else 'unknown'})" for row in sessions]
    holders += [f"prepared transaction {row['gid']!r} (prepared {row['prepared'].isoformat()})" for row in
                connection.execute("SELECT gid, prepared FROM pg_prepared_xacts WHERE database = current_database() "
                                   "AND age(transaction) >= age(%s::xid)", (horizon,)).fetchall()]
    holders += [f"replication slot {row['slot_name']!r}" for row in connection.execute(
        "SELECT slot_name FROM pg_replication_slots WHERE xmin IS NOT NULL AND age(xmin) >= age(%s::xid)",
        (horizon,)).fetchall()]
    return holders


@contextmanager
def _setup_connection(datastore: Any) -> Iterator[psycopg.Connection]:
    """A connection of its own to the datastore's database; a failure to connect becomes a
    one-line ConfigurationError saying what to check."""
    parameters = {name: value for name, value in datastore.pool.kwargs.items() if name != "row_factory"}
    where = f"{parameters['user']}@{parameters['host']}:{parameters['port']}/{parameters['dbname']}"
    try:
        connection = psycopg.connect(**parameters, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        raise ConfigurationError(f"cannot connect to PostgreSQL as {where}: {reason}; check the URL, that the "
                                 "server runs, and the role and password", field="AMANAH_DATABASE_URL") from None
    with connection:
        yield connection


def _create_schema(connection: psycopg.Connection, schema: str) -> None:
    """Create the URL's schema if it is missing and the role may; otherwise say who must."""
    if connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone():
        return
    try:
        with connection.transaction():
            connection.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
    except psycopg.errors.InsufficientPrivilege:
        role = connection.execute("SELECT current_user").fetchone()[0]
        raise ConfigurationError(f"schema {schema!r} does not exist and role {role!r} may not create it: ask the "
                                 f"database owner to run CREATE SCHEMA \"{schema}\" AUTHORIZATION \"{role}\"",
                                 field="AMANAH_DATABASE_URL") from None
