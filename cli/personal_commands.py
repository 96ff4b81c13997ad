"""`amanah forget` and `amanah personal`: erasure requests and the key-encryption key of the
personal data kept beside the log."""

from __future__ import annotations

import argparse

from cli import common
from cli.common import EXIT_OK, EXIT_PENDING
from ledger import personal, personal_keys
from ledger.errors import InvalidInput

MAX_WAIT_S = 3600


def add_parsers(commands) -> None:
    """The `forget` and `personal` commands."""
    forget = commands.add_parser("forget", help="carry out an erasure request (UU PDP) for a worker or heir; "
                                 "exit 4 while older PostgreSQL snapshots still keep copies")
    forget.add_argument("subject", nargs="?", help="worker reference (64 hex), worker:<ref> or heir:<claim>")
    forget.add_argument("--nik", help="the worker's NIK instead of the reference")
    forget.add_argument("--wait", type=_wait_seconds, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for older snapshots to end so the database files are scrubbed "
                             "(default 0: report pending and return)")
    forget.set_defaults(handler=command_forget)

    personal_data = commands.add_parser("personal", help="personal data beside the log").add_subparsers(
        metavar="ACTION")
    rotate_kek = personal_data.add_parser("rotate-kek", help="rewrap every per-person key under a new "
                                          "key-encryption key, in one transaction")
    rotate_kek.set_defaults(handler=command_rotate_kek)


def _wait_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT_S:
        raise argparse.ArgumentTypeError(f"--wait takes seconds from 0 to {MAX_WAIT_S}, not {text!r}")
    return seconds


def command_forget(arguments: argparse.Namespace) -> int:
    ledger = common.open_ledger(common.settings(arguments), signing_checkpoints=False)
    if arguments.nik:
        reference = ledger.worker_reference_for(personal.check_nik(arguments.nik, "--nik"))
        if reference is None:
            print("no worker is indexed under that NIK (never enrolled with it, or erased before)")
            return EXIT_OK
        subject = f"worker:{reference}"
    elif arguments.subject:
        subject = arguments.subject if ":" in arguments.subject else f"worker:{arguments.subject}"
    else:
        raise InvalidInput("give a worker reference, worker:<ref>, heir:<claim> or --nik", field="subject")
    erasure = ledger.forget(subject, arguments.wait)
    print(f"erased the personal data of {subject} (its wrapped key, record and NIK index row); the log and its "
          "proofs are unchanged" if erasure.erased else f"nothing stored for {subject} (unknown, or erased before)")
    if erasure.done:
        print("done: the database files keep no copy")
        return EXIT_OK
    print("pending: deleted from the tables, but older snapshots still keep copies in the database files: "
          + "; ".join(erasure.holders))
    print(f"run `amanah forget {subject} --wait 60` again once they end")
    return EXIT_PENDING


def command_rotate_kek(arguments: argparse.Namespace) -> int:
    ledger = common.open_ledger(common.settings(arguments), signing_checkpoints=False)
    from ledger import personal_store

    count = personal_keys.rotate(ledger.recorder.write, ledger.personal_keys,
                                 ledger.recorder.read(personal_store.read_kek_id),
                                 lambda cursor, dialect, plain: personal.index_plain_keyed_workers(
                                     cursor, dialect, ledger.pseudonym_secret, plain))
    print(f"rewrapped {count} per-person keys under a new key-encryption key in {ledger.personal_keys.path}; "
          "the old one is gone: restart running servers")
    return EXIT_OK
