"""`amanah demo`: build the North Jakarta 2025 demo ledger, catch up its views and print its tokens."""

from __future__ import annotations

import argparse

from cli import common
from cli.common import EXIT_OK
from ledger.errors import LedgerAlreadyInitialised


def add_parsers(commands) -> None:
    """The `demo` command."""
    demo = commands.add_parser("demo", help="build the North Jakarta 2025 demo ledger (deterministic)")
    demo.add_argument("--seed", type=int, default=2025)
    demo.add_argument("--if-missing", action="store_true", help="keep an existing demo ledger")
    demo.set_defaults(handler=command_demo)


def command_demo(arguments: argparse.Namespace) -> int:
    from cli.demo import build_demo, demo_tokens

    settings = common.settings(arguments)
    ledger = common.open_ledger(settings, signing_checkpoints=False)
    exists = ledger.size() > 0
    ledger.close()
    if exists and not arguments.if_missing:
        raise LedgerAlreadyInitialised(f"{settings.database_url} holds a ledger already; use --if-missing or "
                                       "another AMANAH_HOME", field="AMANAH_HOME")
    if not exists:
        bar, update = common.progress("building the demo year")
        bar.unit = "steps"
        with bar:
            facts = build_demo(settings, arguments.seed, update)
        print(f"demo ledger: {facts['tree_size']:,} entries, {facts['workers_enrolled']:,} workers, "
              f"{len(facts['contributors'])} contributing companies")
    services = common.services(arguments)
    bar, update = common.progress("catching up the views")
    with bar:
        services.runner.run(update)
    for organisation, token in demo_tokens(settings, services.tokens).items():
        print(f"token {organisation}: {token}")
    return EXIT_OK
