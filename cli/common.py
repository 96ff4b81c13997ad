"""What every `amanah` command shares: exit codes, settings, passphrases, opening the ledger,
progress bars, JSON output, posting to a server and asking the witnesses."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from cli.exit_codes import EXIT_OK, EXIT_PENDING, EXIT_REFUSED, EXIT_SETUP, EXIT_VERIFY_FAILED  # noqa: F401
from ledger import signing
from ledger.application import Ledger
from ledger.client import Signer
from ledger.config import Settings
from ledger.errors import (
    Conflict, Forbidden, Invalid, InvalidInput, KeyFileError, LedgerError, LedgerNotInitialised, NotFound,
    RuleViolation, Unauthenticated, Unavailable,
)
from ledger.witness_client import Witnessing
from ledger.wiring import open_ledger  # noqa: F401 (the commands' way to open the ledger)


class FileExists(Conflict):
    """A file the command would write exists already: it is never written over."""

    code = "file-exists"


class ServerUnavailable(Unavailable):
    """The server the command talks to cannot be reached, or failed (5xx): a set-up problem."""

    code = "server-unavailable"


# A server's refusal, by status, as the public base the server raised it from (api/problems.py).
BASE_BY_STATUS = {400: InvalidInput, 401: Unauthenticated, 403: Forbidden, 404: NotFound, 409: Conflict,
                  413: InvalidInput, 415: InvalidInput, 422: RuleViolation}


def server_refusal(status: int, detail: str, code: str | None, *, field: str | None = None,
                   index: int | None = None) -> LedgerError:
    """A server's problem+json answer as an error of the same base, keeping the server's code."""
    kind = ServerUnavailable if status >= 500 else BASE_BY_STATUS.get(status, Invalid)
    error = kind(detail, field=field, index=index)
    error.code = code or kind.code
    return error


def passphrase_flag(parser: argparse.ArgumentParser) -> None:
    """The --no-passphrase flag of a command that reads or writes a key file."""
    parser.add_argument("--no-passphrase", action="store_true",
                        help="key file without encryption (demo only); otherwise the passphrase "
                             "comes from $AMANAH_KEY_PASSPHRASE or a prompt")


def registrar_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of a command signed by the registrar."""
    parser.add_argument("--registrar-key", type=Path, help="default: HOME/keys/registrar.key")
    passphrase_flag(parser)


def settings(arguments: argparse.Namespace, **overrides: object) -> Settings:
    """Settings from the environment, under the --home folder if given."""
    return Settings.from_environment(home=arguments.home, **overrides)


def passphrase(arguments: argparse.Namespace, *, confirm: bool = False) -> bytes | None:
    """The key passphrase: none with --no-passphrase, else $AMANAH_KEY_PASSPHRASE or a prompt."""
    if getattr(arguments, "no_passphrase", False):
        return None
    if os.environ.get("AMANAH_KEY_PASSPHRASE"):
        return os.environ["AMANAH_KEY_PASSPHRASE"].encode()
    if not sys.stdin.isatty():
        raise KeyFileError("a passphrase is needed: set AMANAH_KEY_PASSPHRASE, or pass "
                           "--no-passphrase for an unencrypted demo key")
    first = getpass.getpass("Key passphrase: ")
    if confirm and getpass.getpass("Again: ") != first:
        raise KeyFileError("the two passphrases differ")
    if not first:
        raise KeyFileError("an empty passphrase is not allowed; use --no-passphrase deliberately")
    return first.encode()


def progress(description: str):
    """A progress bar on stderr and the function that moves it."""
    from tqdm import tqdm

    bar = tqdm(total=0, desc=description, unit="entries", file=sys.stderr, disable=None)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def print_json(value: object) -> None:
    """Print a value as indented JSON."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def registrar(arguments: argparse.Namespace, settings: Settings, ledger: Ledger) -> Signer:
    """The registrar's signer, from its key file."""
    path = arguments.registrar_key or settings.home / "keys" / "registrar.key"
    key = signing.read_private_key(path, passphrase(arguments))
    genesis = ledger.genesis()
    if genesis is None:
        raise LedgerNotInitialised("the ledger has no genesis entry yet; run `amanah init`")
    return Signer(ledger.origin, genesis.actor, key)


def post(base: str, actor: str, key, idempotency_key: str, events: list) -> int:
    """Sign for the server's origin (read from /api/v1/keys) and POST the submission."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/api/v1/keys", timeout=30) as response:
            origin = json.loads(response.read())["origin"]
        body = json.dumps(Signer(origin, actor, key).submission(idempotency_key, events)).encode()
        request = urllib.request.Request(base + "/api/v1/submissions", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            print_json(json.loads(response.read()))
            return EXIT_OK
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read() or b"{}")
        print(f"amanah: refused ({error.code} {problem.get('code', '')}): {problem.get('detail', error.reason)}",
              file=sys.stderr)
        return EXIT_REFUSED if error.code < 500 else EXIT_SETUP
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        print(f"amanah: cannot reach {base}: {error}", file=sys.stderr)
        return EXIT_SETUP


def ask_witnesses(settings: Settings, ledger: Ledger) -> None:
    """Ask the configured witnesses to cosign the latest checkpoint, within their timeouts; a
    witness that does not answer is reported, never fatal (the server's thread asks again)."""
    if not settings.witnesses:
        return
    outcomes = Witnessing(ledger, settings.witnesses, settings.witness_timeout_seconds).witness_latest()
    for name, outcome in outcomes.items():
        if outcome != "cosigned":
            print(f"amanah: witness {name}: {outcome}", file=sys.stderr)


def services(arguments: argparse.Namespace):
    """What the API uses (views, reports, tokens), built from the settings."""
    from api.services import Services

    return Services.build(settings(arguments))


def now() -> str:
    """The current UTC time in seconds, as the ledger writes it."""
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
