"""`amanah ARGUMENTS` started ahead of time: `python -m tests.reliability.prepared ARGUMENTS`
imports the command line and the modules its server and views commands load (the slow part of a
start, a second or more on a loaded machine), then waits for a line on stdin. On "go" it runs
`amanah ARGUMENTS` in this same process, exactly as `python -m cli ARGUMENTS` would; on anything
else (stdin closed: the process was not needed) it exits 0 without touching a database.

The crash tests start the next process this way while they check the last, so each kill costs
the checks and the work, not an interpreter's start-up."""

from __future__ import annotations

import sys

import api.server  # noqa: F401  (gunicorn, Flask and the app: what `amanah serve` imports)
import api.services  # noqa: F401
import projections.runner  # noqa: F401  (SQLAlchemy and the views: what `projections run` imports)
from cli.main import main

GO = "go\n"

if __name__ == "__main__":
    if sys.stdin.readline() != GO:
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
