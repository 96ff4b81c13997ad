"""`amanah verify`: verify a bundle offline (or the live database), the witnesses' cosignatures,
and signed impact statements against the bundle. Needs only the base dependencies."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import common
from cli.common import EXIT_OK, EXIT_VERIFY_FAILED
from ledger import signing
from ledger.bundle import kept_checkpoint_note, verify_bundle, verify_database
from ledger.errors import InvalidInput
from ledger.statement_check import StatementCheck, read_statement
from ledger.witness_policy import WitnessPolicy, check_database_witnesses


def add_parsers(commands) -> None:
    """The `verify` command."""
    verify = commands.add_parser("verify", help="verify a bundle offline, or the live database")
    verify.add_argument("bundle", type=Path, nargs="?")
    verify.add_argument("--db", action="store_true", help="verify the configured database instead")
    verify.add_argument("--origin", help="pin the origin you expect")
    verify.add_argument("--checkpoint-key", help="pin the checkpoint verifier key you expect")
    verify.add_argument("--jobs", type=_positive_jobs, default=None,
                        help="processes for a bundle (default: one per core from 20,000 entries)")
    verify.add_argument("--since-checkpoint", type=Path, action="append", default=[], metavar="FILE",
                        help="a checkpoint you kept earlier (its signed note, its JSON, or an earlier bundle "
                             "directory); the log must extend it. May be repeated")
    verify.add_argument("--statement", type=Path, action="append", default=[], metavar="FILE",
                        help="a signed impact statement (JSON): check its signature and checkpoint against the "
                             "bundle and recompute its figures from the bundle; names every figure that differs. "
                             "May be repeated")
    verify.add_argument("--witness", action="append", default=[], metavar="KEY",
                        help="a witness verifier key you trust (type 0x04, from the witness itself); repeat")
    verify.add_argument("--quorum", type=int, help="cosignatures needed from the listed witnesses (default: all)")
    verify.add_argument("--max-cosignature-age", type=float, metavar="SECONDS",
                        help="refuse cosignatures older than this")
    verify.set_defaults(handler=command_verify)


def _positive_jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError("--jobs is a whole number from 1 to 64")
    return int(text)


def command_verify(arguments: argparse.Namespace) -> int:
    if arguments.db == (arguments.bundle is not None):
        raise InvalidInput("give a BUNDLE directory or --db (one of them)", field="bundle")
    if arguments.statement and arguments.db:
        raise InvalidInput("--statement checks a statement against a BUNDLE, not --db", field="statement")
    kept = [kept_checkpoint_note(path) for path in arguments.since_checkpoint]
    policy = _witness_policy(arguments)
    checks = [StatementCheck(read_statement(path), witness_policy=policy) for path in arguments.statement]
    bar, update = common.progress("verify")
    with bar:
        if arguments.db:
            ledger = common.open_ledger(common.settings(arguments), signing_checkpoints=False)
            report = verify_database(ledger, update, kept)
            if policy is not None:
                check_database_witnesses(ledger, policy, report)
        else:
            report = verify_bundle(arguments.bundle, update, arguments.origin, arguments.checkpoint_key, kept,
                                   arguments.jobs, witness_policy=policy, watch=_watch_all(checks))
    for failure in report.failures:
        print(f"FAIL {failure}")
    if report.failure_count > len(report.failures):
        print(f"... and {report.failure_count - len(report.failures)} more failures")
    verdict = "OK" if report.ok else "FAILED"
    print(f"{verdict}: {report.entries} entries, {report.checkpoints} checkpoints, "
          f"{report.failure_count} failures, root {signing.b64encode(report.root)}")
    statements_ok = all([_print_statement_check(path, check) for path, check in zip(arguments.statement, checks)])
    return EXIT_OK if report.ok and statements_ok else EXIT_VERIFY_FAILED


def _watch_all(checks: list):
    """One watcher for several statement checks, each following the same entries."""
    if not checks:
        return None

    def watch(verifier) -> None:
        callbacks = []
        for check in checks:
            check.watch(verifier)
            callbacks.append(verifier.on_entry)

        def each(position, entry) -> None:
            for callback in callbacks:
                callback(position, entry)

        verifier.on_entry = each
    return watch


def _print_statement_check(path: Path, check) -> bool:
    good = check.finish()
    for problem in check.problems:
        print(f"STATEMENT FAIL {path}: {problem}")
    for difference in check.differences:
        print(f"STATEMENT FIGURE DIFFERS {path}: {difference}")
    company = check.statement["company"]["organisation"]
    where = f"{company}, period {check.statement.get('period')}, checkpoint {check.size}"
    if good:
        print(f"STATEMENT OK {path}: signed by the ledger, its checkpoint is the bundle's, and every figure "
              f"({where}) equals the figure recomputed from the bundle")
    else:
        print(f"STATEMENT FAILED {path} ({where}): {len(check.problems)} problems, "
              f"{len(check.differences)} figures differ")
    return good


def _witness_policy(arguments: argparse.Namespace) -> WitnessPolicy | None:
    if not arguments.witness:
        if arguments.quorum is not None or arguments.max_cosignature_age is not None:
            raise InvalidInput("--quorum and --max-cosignature-age need at least one --witness KEY", field="witness")
        return None
    quorum = len(arguments.witness) if arguments.quorum is None else arguments.quorum
    return WitnessPolicy(tuple(arguments.witness), quorum, arguments.max_cosignature_age)
