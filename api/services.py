"""What the API needs, built once per process from Settings: the ledger, views, reports, tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.application import Ledger
from ledger.config import Settings
from ledger.warming import Warmth, warm
from ledger.wiring import open_ledger
from ledger.witness_client import Witnessing, WitnessWorker
from projections import tables
from projections.reports import Reports
from projections.runner import ProjectionRunner
from api.sessions import SessionStore
from api.tokens import TokenStore, ledger_engine
from api.views_follower import ViewsFollower


@dataclass
class Services:
    settings: Settings
    ledger: Ledger
    runner: ProjectionRunner
    reports: Reports
    tokens: TokenStore
    sessions: SessionStore
    write_lock: threading.Lock
    follower: ViewsFollower  # catches the views up after submissions, off the writers' path
    witnessing: WitnessWorker | None = None  # asks the witnesses after commits, off the request path
    closed: bool = field(default=False, init=False)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        ledger = open_ledger(settings)
        runner = ProjectionRunner(ledger)
        # Tokens and page sessions sit beside the log, not in the views (which may be rebuilt or lost).
        engine = ledger_engine(settings.database_url)
        tokens = TokenStore(engine, legacy=runner.engine if settings.views_url != settings.database_url else None)
        witnessing = None
        if settings.witnesses and ledger.checkpoint_key is not None:
            witnessing = WitnessWorker(Witnessing(ledger, settings.witnesses, settings.witness_timeout_seconds),
                                       poll_seconds=1.0).start()
        return cls(settings, ledger, runner, Reports(ledger, runner), tokens, SessionStore(engine, tokens),
                   threading.Lock(), ViewsFollower(lambda: runner.run()), witnessing)

    def catch_up(self) -> None:
        """Bring the views up to the latest checkpoint (readers see their own writes)."""
        self.runner.run()

    def warm(self) -> Warmth:
        """Warm the ledger before the first request: the organisations and programmes the views
        know of (the views may lag the log; a name they miss loads on first use)."""
        with self.runner.engine.connect() as connection:
            organisations = connection.execute(select(tables.organisations.c.organisation)).scalars().all()
            programmes = connection.execute(select(tables.programmes.c.programme)).scalars().all()
        return warm(self.ledger, organisations, programmes)

    def close(self) -> None:
        """Stop the witness worker, then close the engines, the views and the ledger; once."""
        if self.closed:  # close_app, gunicorn's worker_exit and atexit may each come here
            return
        self.closed = True
        self.follower.stop()
        if self.witnessing is not None:
            self.witnessing.stop()
        self.tokens.engine.dispose()
        self.runner.close()
        self.ledger.close()
