"""The `amanah` command line: the parser and the dispatch; each area of commands lives in its own
module beside this one. Exit codes: 0 ok, 1 verification failed, 2 refused or bad input (any
other LedgerError: Invalid, Forbidden, NotFound, Conflict, Busy...), 3 configuration or set-up
problem (Misconfigured, a ledger not initialised, a server or database that cannot be used),
4 pending."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli.exit_codes import EXIT_REFUSED, EXIT_SETUP
from ledger.errors import LedgerError, LedgerNotInitialised, Misconfigured

# Importing this module stays cheap: the command modules (and SQLAlchemy, eventsourcing's
# application...) are imported when `main` runs, not when `amanah verify`'s worker processes,
# which are spawned, import the console script again as their main module.
SERVER_ONLY_MODULES = {"flask", "flask_smorest", "marshmallow", "gunicorn", "werkzeug", "fpdf", "openpyxl",
                       "psycopg", "psycopg_pool", "sqlalchemy"}


def _database_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    from eventsourcing import persistence

    errors = (persistence.OperationalError, persistence.InterfaceError, sqlite3.OperationalError)
    try:
        import sqlalchemy.exc
    except ImportError:  # a verifier's install (no server extra) has no views, so no SQLAlchemy errors
        return errors
    return (*errors, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


def _setup_errors() -> tuple[type[Exception], ...]:
    """What an operator must fix before the command can work (exit code 3), not a refused request."""
    from cli.common import ServerUnavailable

    return Misconfigured, LedgerNotInitialised, ServerUnavailable


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `amanah` console command."""
    parser = build_parser()
    setup_errors, database_unavailable = _setup_errors(), _database_errors()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "handler"):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return arguments.handler(arguments)
    except setup_errors as error:
        print(f"amanah: {error}", file=sys.stderr)
        return EXIT_SETUP
    except database_unavailable as error:  # a database that fails at start: a set-up problem, in one line
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        print(f"amanah: the database cannot be used: {reason}; check AMANAH_DATABASE_URL and AMANAH_VIEWS_URL",
              file=sys.stderr)
        return EXIT_SETUP
    except LedgerError as error:
        print(f"amanah: refused ({error.code}): {error}", file=sys.stderr)
        return EXIT_REFUSED
    except ModuleNotFoundError as error:  # a verifier's install runs a command that needs the server
        if (error.name or "").split(".")[0] not in SERVER_ONLY_MODULES:
            raise
        print(f"amanah: this command needs {error.name}, which comes with the server extra: "
              "pip install 'amanah-ledger[server]'", file=sys.stderr)
        return EXIT_SETUP


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, in the order `amanah --help` lists them."""
    from cli import (awards, common, demo_commands, import_commands, ledger_commands, personal_commands,
                     verify_commands, view_commands, witness)

    parser = argparse.ArgumentParser(prog="amanah", description=(
        "Signed, verifiable ledger of CSR money for informal workers' social security. "
        "Settings come from AMANAH_* environment variables (see docs/operations.md)."))
    parser.add_argument("--home", help="data folder (default: $AMANAH_HOME or ./var)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    ledger_commands.add_setup_parsers(commands)
    import_commands.add_parsers(commands)
    awards.add_parser(commands, common.passphrase_flag)
    ledger_commands.add_log_parsers(commands)
    personal_commands.add_parsers(commands)
    view_commands.add_parsers(commands)
    demo_commands.add_parsers(commands)
    witness.add_parsers(commands)
    verify_commands.add_parsers(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
