"""Helpers of the reliability tests: the production server and the `amanah` command as real
processes that can be killed, more databases of the kind under test, and settling a database
after a kill (a killed client's PostgreSQL transaction may still be finishing)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from scripts.benchmarks.synthetic import free_port
from tests.conftest import POSTGRES_URL
from tests.reliability.prepared import GO

REPOSITORY = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180  # a loaded 2-core machine starts four workers slowly


def kills_per_database() -> int:
    """How many kills each crash test makes per database: 50 in CI, fewer on a laptop (the
    whole file then runs in about four minutes); AMANAH_RELIABILITY_KILLS overrides both."""
    configured = os.environ.get("AMANAH_RELIABILITY_KILLS")
    if configured:
        return int(configured)
    return 50 if os.environ.get("CI") else 8


def environment(home: Path, database_url: str, views_url: str | None = None) -> dict[str, str]:
    """The environment of a server or command working on `database_url`."""
    values = {**os.environ, "AMANAH_HOME": str(home), "AMANAH_DATABASE_URL": database_url}
    if views_url:
        values["AMANAH_VIEWS_URL"] = views_url
    return values


def amanah(arguments: list[str], env: dict[str, str], **options) -> subprocess.Popen:
    """Start `amanah ARGUMENTS` in a process group of its own (so all of it can be killed)."""
    return subprocess.Popen([sys.executable, "-m", "cli", *arguments], env=env, cwd=REPOSITORY,
                            start_new_session=True, **options)


def prepare(arguments: list[str], env: dict[str, str], **options) -> subprocess.Popen:
    """Start `amanah ARGUMENTS` ahead of time, imported and waiting (tests/reliability/prepared.py):
    `go(process)` runs it, `dismiss(process)` lets it exit unused. Like `amanah()`, in a process
    group of its own."""
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.prepared", *arguments], env=env,
                            cwd=REPOSITORY, start_new_session=True, stdin=subprocess.PIPE, text=True, **options)


def go(process: subprocess.Popen) -> subprocess.Popen:
    """Let a prepared process run its command."""
    process.stdin.write(GO)
    process.stdin.close()
    return process


def dismiss(process: subprocess.Popen) -> None:
    """Let a prepared process that was not needed exit (it runs nothing)."""
    process.stdin.close()
    process.wait(timeout=60)


def kill_group(process: subprocess.Popen) -> bool:
    """SIGKILL the process and all its children; False if it had exited already."""
    alive = process.poll() is None
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        alive = False
    process.wait(timeout=30)
    return alive


@dataclass
class Server:
    """`amanah serve` (gunicorn) on a free port."""

    process: subprocess.Popen
    port: int
    log: Path

    @classmethod
    def start(cls, home: Path, database_url: str, workers: int = 1, env: dict[str, str] | None = None,
              prepared: bool = False) -> Server:
        """Start the server (prepared: imported and waiting for `go()`, see `prepare`); call
        `wait_ready()` before using it."""
        port = free_port()
        log = home / f"server-{port}.log"
        with log.open("wb") as output:
            process = (prepare if prepared else amanah)(
                ["serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
                env or environment(home, database_url), stdout=output, stderr=subprocess.STDOUT)
        return cls(process, port, log)

    def go(self) -> Server:
        """Let a server started prepared serve."""
        go(self.process)
        return self

    def dismiss(self) -> None:
        """Let a server started prepared and never needed exit."""
        dismiss(self.process)

    def wait_ready(self) -> Server:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited:\n{self.log.read_text()[-3000:]}"
            try:
                if self.get("/api/v1/health")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def health_at(self, size: int, timeout_s: float = 30) -> dict:
        """`/health` once the views stand at `size`: the views catch up in each worker's follower
        thread soon after an answer is sent (api/views_follower.py), so the last writers' may still
        be pending when the writers are done."""
        deadline = time.monotonic() + timeout_s
        while True:
            health = self.get("/api/v1/health")[1]
            if health["views_position"] >= size or time.monotonic() > deadline:
                return health
            time.sleep(0.05)

    def connection(self, timeout_s: float = 600) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)

    def get(self, path: str) -> tuple[int, dict]:
        connection = self.connection(10)
        try:
            connection.request("GET", path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def post(self, body: bytes, connection: http.client.HTTPConnection | None = None) -> tuple[int, dict, dict]:
        """POST a submission: (status, JSON body, headers)."""
        own = connection is None
        connection = connection or self.connection()
        try:
            connection.request("POST", "/api/v1/submissions", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, json.loads(response.read()), dict(response.getheaders())
        finally:
            if own:
                connection.close()

    def kill(self) -> None:
        kill_group(self.process)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(self.process)


@dataclass
class Databases:
    """Fresh databases of one kind (that of the `database_url` under test), dropped at the end."""

    kind: str
    directory: Path
    schemas: list[str] = field(default_factory=list)

    @classmethod
    def like(cls, database_url: str, directory: Path) -> Databases:
        return cls("postgres" if database_url.startswith("postgres") else "sqlite", directory)

    def new(self, name: str) -> str:
        """A URL built the way tests/conftest.py builds `database_url`."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.directory / f'{name}.db'}"
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return f"{POSTGRES_URL}?schema={schema}"

    def drop(self) -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            for schema in self.schemas:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def settle(database_url: str, table: str) -> None:
    """Wait until no transaction of a killed process still holds `table`. A SQLite writer's
    locks die with its process; a PostgreSQL backend finishes the statement it was running
    (even a COMMIT the client sent just before dying), so take the lock writers take."""
    if not database_url.startswith("postgres"):
        return
    plain, _, query = database_url.partition("?")
    schema = query.removeprefix("schema=") or "public"
    with psycopg.connect(plain) as connection, connection.transaction():
        connection.execute(f'LOCK TABLE "{schema}"."{table}" IN EXCLUSIVE MODE')
