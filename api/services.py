"""What the API needs, built once per process from Settings: the ledger, views, reports, tokens."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ledger import personal, signing
from ledger.application import Ledger
from ledger.config import Settings
from projections.reports import Reports
from projections.runner import ProjectionRunner
from api.sessions import SessionStore
from api.tokens import TokenStore, ledger_engine


@dataclass
class Services:
    settings: Settings
    ledger: Ledger
    runner: ProjectionRunner
    reports: Reports
    tokens: TokenStore
    sessions: SessionStore
    write_lock: threading.Lock

    @classmethod
    def build(cls, settings: Settings) -> Services:
        checkpoint_key = None
        if settings.checkpoint_key_path.exists():
            checkpoint_key = signing.read_private_key(settings.checkpoint_key_path, settings.checkpoint_key_passphrase)
        ledger = Ledger(settings, checkpoint_key, personal.read_secret(settings.pseudonym_secret_path))
        runner = ProjectionRunner(ledger)
        # Tokens and page sessions sit beside the log, not in the views (which may be rebuilt or lost).
        engine = ledger_engine(settings.database_url)
        tokens = TokenStore(engine, legacy=runner.engine if settings.views_url != settings.database_url else None)
        return cls(settings, ledger, runner, Reports(ledger, runner), tokens, SessionStore(engine, tokens),
                   threading.Lock())

    def catch_up(self) -> None:
        """Bring the views up to the latest checkpoint (readers see their own writes)."""
        self.runner.run()

    def close(self) -> None:
        self.tokens.engine.dispose()
        self.runner.close()
        self.ledger.close()
