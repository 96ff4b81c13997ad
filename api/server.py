"""`amanah serve`: the API under gunicorn, several worker processes of several threads each, one
database.

Writers are serialised by the database (SQLite's write lock in WAL mode, or PostgreSQL's
table lock) and by the log's position check; readers are never blocked by them. Each worker is
api/server_worker.py's HeadFirstWorker (gunicorn's gthread, reading request heads without a
thread), so clients that open connections and never finish their request hold no thread."""

from __future__ import annotations

import logging
import resource

from gunicorn.app.base import BaseApplication

from api.app import close_app, create_app
from ledger.config import Settings

DEFAULT_THREADS = 8
WORKER_CONNECTIONS = 1000  # per worker: open connections, finished or not, beyond which it stops accepting
SPARE_FILES = 256  # file descriptors kept for the database, logs and key files


class _Server(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        """Each worker's app, warmed before the worker accepts its first connection (gunicorn
        loads the app first), so no request pays for a cold cache."""
        app = create_app({"SETTINGS": self.settings})
        logging.getLogger("gunicorn.error").info(app.extensions["amanah"].warm().describe())
        return app


def options(bind: str, workers: int, threads: int = DEFAULT_THREADS, worker_timeout_s: int = 120) -> dict:
    """gunicorn's settings for `amanah serve`. gunicorn restarts a worker whose event loop stops
    reporting for `worker_timeout_s`; the threaded worker's loop reports while its threads serve
    requests, so a long batch is never cut off by it (a sync worker was, and its client saw a
    reset connection): it only catches a worker that hangs as a whole."""
    return {"bind": bind, "workers": max(1, workers), "threads": max(1, threads),
            "worker_class": "api.server_worker.HeadFirstWorker", "worker_connections": connection_limit(),
            "timeout": worker_timeout_s, "graceful_timeout": 10, "keepalive": 5,
            "accesslog": "-", "preload_app": False, "limit_request_line": 8190,
            # gunicorn 25.1+ opens a control socket at one shared path (~/.gunicorn/gunicorn.ctl)
            # that accepts "shutdown" from any process of the user: off.
            "control_socket_disable": True, "worker_exit": close_worker_app}


def close_worker_app(server, worker) -> None:
    """gunicorn's worker_exit hook: a worker that ends closes its app's pools and write-turn lock."""
    # In the worker process the worker holds its app as `wsgi`; gunicorn also calls the hook in the
    # arbiter for a worker already gone, which holds no app.
    app = getattr(worker, "wsgi", None)
    if app is not None:
        close_app(app)


def connection_limit() -> int:
    """Connections a worker may hold: WORKER_CONNECTIONS, within the process's open-file limit
    (raised towards its hard limit first; 1,024 is a common default). A worker that ran out of
    descriptors while accepting would crash."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WORKER_CONNECTIONS + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    if soft == resource.RLIM_INFINITY:
        return WORKER_CONNECTIONS
    return max(64, min(WORKER_CONNECTIONS, soft - SPARE_FILES))


def prepare(settings: Settings) -> None:
    """Open the ledger and the views once before the workers start: create what is missing and
    surface a set-up problem (database unreachable, schema missing) as one clear error."""
    from api.services import Services

    Services.build(settings).close()


def serve(settings: Settings, bind: str, workers: int, threads: int = DEFAULT_THREADS) -> int:
    """Run until interrupted."""
    from api.server_worker import HeadFirstWorker

    prepare(settings)
    HeadFirstWorker.head_timeout_s = settings.head_timeout_s  # the workers are forked from here
    HeadFirstWorker.stall_timeout_s = settings.stall_timeout_s
    _Server(settings, options(bind, workers, threads, settings.worker_timeout_s)).run()
    return 0
