"""All configuration: environment variables prefixed AMANAH_, with defaults that work on a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from ledger.errors import ConfigurationError
from ledger.private_files import private_database_file
from ledger.witness_client import parse_witnesses

DEFAULT_ORIGIN = "amanah.jakarta-utara.example/ledger"
DEFAULT_AGGREGATE_CACHE = 50_000  # see docs/operations.md: set it above the number of workers
DEFAULT_SNAPSHOT_EVERY = 4  # see docs/operations.md: a worker kept out of the cache replays at most 3 events
MAX_SNAPSHOT_EVERY = 1_000
POOL_AT_START, POOL_MOST = 1, 15  # the ledger's PostgreSQL connections per process: opened at start, at most


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    origin: str
    checkpoint_key_path: Path
    checkpoint_key_passphrase: bytes | None
    checkpoint_every_entries: int
    checkpoint_every_seconds: float
    pseudonym_secret_path: Path
    views_url: str = ""
    witnesses: tuple = ()  # WitnessEndpoint: who the ledger asks to cosign its checkpoints
    witness_timeout_seconds: float = 3.0
    personal_kek_path: Path | None = None  # None: pseudonym_secret_path's folder / personal.kek
    lock_timeout_s: int = 30  # how long a write waits for another's lock before answering 503
    head_timeout_s: float = 30.0  # the server's wait for a request line and headers (then 408)
    stall_timeout_s: float = 30.0  # the server's wait when a body or a reader pauses (then 408, or closed)
    worker_timeout_s: int = 120  # a server worker whose event loop stops this long is restarted
    aggregate_cache: int = DEFAULT_AGGREGATE_CACHE  # aggregates the writer keeps in memory per process (workers, mostly)
    snapshot_every: int = DEFAULT_SNAPSHOT_EVERY  # a worker's snapshot every this many of its events; 0: none

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read AMANAH_* variables; keyword overrides win (the CLI's flags)."""
        env = dict(os.environ if environ is None else environ)
        home = Path(str(overrides.pop("home", None) or env.get("AMANAH_HOME", "var")))
        passphrase = env.get("AMANAH_CHECKPOINT_KEY_PASSPHRASE")
        values = dict(
            home=home,
            database_url=env.get("AMANAH_DATABASE_URL", f"sqlite:///{home / 'ledger.db'}"),
            origin=env.get("AMANAH_ORIGIN", DEFAULT_ORIGIN),
            checkpoint_key_path=Path(env.get("AMANAH_CHECKPOINT_KEY", home / "keys" / "checkpoint.key")),
            checkpoint_key_passphrase=passphrase.encode() if passphrase else None,
            checkpoint_every_entries=_positive_int(env, "AMANAH_CHECKPOINT_EVERY_ENTRIES", 1),
            checkpoint_every_seconds=_positive_float(env, "AMANAH_CHECKPOINT_EVERY_SECONDS", 0.0),
            pseudonym_secret_path=Path(env.get("AMANAH_PSEUDONYM_SECRET", home / "keys" / "pseudonym.secret")),
        )
        values["views_url"] = env.get("AMANAH_VIEWS_URL", "")
        values["witnesses"] = parse_witnesses(env.get("AMANAH_WITNESSES", ""))
        values["witness_timeout_seconds"] = _positive_float(env, "AMANAH_WITNESS_TIMEOUT_SECONDS", 3.0)
        values["personal_kek_path"] = Path(env.get("AMANAH_PERSONAL_KEK", home / "keys" / "personal.kek"))
        values["lock_timeout_s"] = _positive_int(env, "AMANAH_LOCK_TIMEOUT_S", 30)
        values["head_timeout_s"] = _positive_float(env, "AMANAH_HEAD_TIMEOUT_S", 30.0) or 30.0
        values["stall_timeout_s"] = _positive_float(env, "AMANAH_STALL_TIMEOUT_S", 30.0) or 30.0
        values["worker_timeout_s"] = _positive_int(env, "AMANAH_WORKER_TIMEOUT_S", 120)
        values["aggregate_cache"] = _positive_int(env, "AMANAH_AGGREGATE_CACHE", DEFAULT_AGGREGATE_CACHE)
        values["snapshot_every"] = _bounded_int(env, "AMANAH_SNAPSHOT_EVERY", DEFAULT_SNAPSHOT_EVERY,
                                                0, MAX_SNAPSHOT_EVERY)
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        if not self.views_url:
            object.__setattr__(self, "views_url", self.database_url)
        if self.personal_kek_path is None:
            object.__setattr__(self, "personal_kek_path", self.pseudonym_secret_path.parent / "personal.kek")

    def eventsourcing_env(self) -> dict[str, str]:
        """The `env` the eventsourcing Application is built with, from the database URL."""
        url = urlparse(self.database_url)
        common = {"MAPPER_TOPIC": "ledger.mapper:LeafMapper", "CREATE_TABLE": "y"}
        if url.scheme == "sqlite":
            path = unquote(url.path.removeprefix("/")) if url.netloc == "" else url.netloc + url.path
            if not path:
                raise ConfigurationError("sqlite URL needs a file path, like sqlite:///var/ledger.db",
                                         field="AMANAH_DATABASE_URL")
            if path != ":memory:":
                try:
                    private_database_file(Path(path))  # 0600 before SQLite creates it (and its WAL) 0644
                except OSError as error:
                    raise ConfigurationError(f"cannot create {path}: {error.strerror}",
                                             field="AMANAH_DATABASE_URL") from None
            return {**common, "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path,
                    "SQLITE_LOCK_TIMEOUT": str(self.lock_timeout_s),
                    "APPLICATION_RECORDER_TOPIC": "ledger.recorders:LedgerSQLiteRecorder"}
        if url.scheme in ("postgres", "postgresql"):
            query = parse_qs(url.query)
            return {**common, "PERSISTENCE_MODULE": "eventsourcing.postgres",
                    "POSTGRES_DBNAME": url.path.removeprefix("/") or "amanah",
                    "POSTGRES_HOST": url.hostname or "127.0.0.1",
                    "POSTGRES_PORT": str(url.port or 5432),
                    "POSTGRES_USER": unquote(url.username or "postgres"),
                    "POSTGRES_PASSWORD": unquote(url.password or ""),
                    "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
                    "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout_s),
                    # One connection opened at start, up to 15 as threads need them (eventsourcing
                    # opens 5 at start by default: a 4-worker server and a few commands beside it
                    # filled PostgreSQL's default of 100 connections).
                    "POSTGRES_POOL_SIZE": str(POOL_AT_START), "POSTGRES_MAX_OVERFLOW": str(POOL_MOST - POOL_AT_START),
                    "APPLICATION_RECORDER_TOPIC": "ledger.postgres_recorder:LedgerPostgresRecorder"}
        raise ConfigurationError(f"unsupported database URL scheme {url.scheme!r}; use sqlite:/// "
                                 "or postgresql://", field="AMANAH_DATABASE_URL")


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    try:
        value = int(env.get(name, default))
    except ValueError:
        raise ConfigurationError("must be a whole number", field=name) from None
    if value < 1:
        raise ConfigurationError("must be at least 1", field=name)
    return value


def _bounded_int(env: dict[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    try:
        value = int(env.get(name, default))
    except ValueError:
        raise ConfigurationError("must be a whole number", field=name) from None
    if not lowest <= value <= highest:
        raise ConfigurationError(f"must be {lowest}..{highest:,}", field=name)
    return value


def _positive_float(env: dict[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        raise ConfigurationError("must be a number of seconds", field=name) from None
    if value < 0:
        raise ConfigurationError("must not be negative", field=name)
    return value
