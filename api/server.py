"""`amanah serve`: the API under gunicorn, several worker processes, one database.

Writers are serialised by the database (SQLite's write lock in WAL mode, or PostgreSQL's
table lock) and by the log's position check; readers are never blocked by them."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from api.app import create_app
from ledger.config import Settings


class _Server(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        return create_app({"SETTINGS": self.settings})


def serve(settings: Settings, bind: str, workers: int) -> int:
    """Run until interrupted."""
    options = {"bind": bind, "workers": max(1, workers), "timeout": 120, "graceful_timeout": 10,
               "accesslog": "-", "preload_app": False, "limit_request_line": 8190}
    _Server(settings, options).run()
    return 0
