"""`amanah import`: check a spreadsheet row by row, then sign and submit it (docs/importing.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import common
from cli.common import EXIT_OK, EXIT_REFUSED
from ledger import signing
from ledger.errors import InvalidInput, LedgerNotInitialised


def add_parsers(commands) -> None:
    importing = commands.add_parser("import", help="check a spreadsheet (CSV or XLSX) row by row, then sign and "
                                    "submit it with --submit (docs/importing.md)")
    importing.add_argument("kind", nargs="?", choices=["premiums", "receipts", "disbursements", "enrolments"])
    importing.add_argument("file", nargs="?", type=Path, help="the .csv or .xlsx file")
    importing.add_argument("--template", type=Path, metavar="FILE",
                           help="write a template instead: premiums.xlsx, receipts.csv, disbursements.xlsx, ...")
    for name, help_text in (("programme", "the programme id"), ("batch", "premium batch id"),
                            ("disbursement", "the disbursement that paid the premium batch"),
                            ("month", "the month the premium batch covers"), ("paid-on", "the day BPJS paid the batch")):
        importing.add_argument(f"--{name}", help=f"{help_text} (instead of the file's setting row)")
    importing.add_argument("--submit", action="store_true", help="sign and submit (default: a dry run only)")
    importing.add_argument("--key", type=Path, help="the signing organisation's private key file (with --submit)")
    importing.add_argument("--actor", help="the organisation id signing (with --submit)")
    importing.add_argument("--url", help="submit to this server instead of the local ledger")
    importing.add_argument("--json", action="store_true", help="print the report as JSON")
    common.passphrase_flag(importing)
    importing.set_defaults(handler=command_import)


def command_import(arguments: argparse.Namespace) -> int:
    from cli.importing import command

    if arguments.template:
        return command.write_template(arguments.template)
    if not arguments.kind or not arguments.file:
        raise InvalidInput("give the kind of file and the file (or --template FILE)", field="file")
    if arguments.submit and not (arguments.key and arguments.actor):
        raise InvalidInput("--submit needs --key and --actor", field="--key" if not arguments.key else "--actor")
    settings = common.settings(arguments)
    # The local ledger answers NIK look-ups when this machine holds one; a dry run creates nothing.
    ledger = None
    if settings.pseudonym_secret_path.exists():
        ledger = common.open_ledger(settings, signing_checkpoints=arguments.submit and not arguments.url)
    if arguments.submit and not arguments.url and ledger is None:
        raise LedgerNotInitialised(f"no ledger at {settings.home}: run `amanah init`, or submit with --url")
    plan = command.dry_run(arguments, ledger)
    if plan.refusals or not plan.events or not arguments.submit:
        command.show(plan, arguments.json)
        if not plan.refusals and plan.events:
            print("dry run: nothing was stored; add --submit --key FILE --actor ID to sign and submit", file=sys.stderr)
            return EXIT_OK
        print("refused: nothing was stored; fix the rows above and run the import again", file=sys.stderr)
        return EXIT_REFUSED
    key = signing.read_private_key(arguments.key, common.passphrase(arguments))
    if arguments.url:
        code, result = command.submit_remote(plan, arguments.url.rstrip("/"), arguments.actor, key)
    else:
        code, result = command.submit_local(plan, ledger, arguments.actor, key)
    command.show(plan, arguments.json, {"result": result} if code == EXIT_OK else result)
    return code
