"""The `amanah` command line. Exit codes: 0 ok, 1 verification failed, 2 refused or bad input,
3 configuration or set-up problem."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from api.cli_awards import add_parser as award_parser
from ledger import note, personal, personal_keys, signing
from ledger.application import Ledger
from ledger.bundle import export_bundle, kept_checkpoint_note, verify_bundle, verify_database
from ledger.statement_check import StatementCheck, read_statement
from ledger.checkpoint_keys import ROTATION_TYPE, rotation_payload, verifier_key_of
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.errors import ConfigurationError, InvalidInput, KeyFileError, LedgerError, LedgerNotInitialised
from ledger.private_files import private_folder
from ledger.witness import cosigner_verifier_key
from ledger.witness_client import Witnessing
from ledger.witness_policy import WitnessPolicy, check_database_witnesses
from ledger.witness_table import cosigned

EXIT_OK, EXIT_VERIFY_FAILED, EXIT_REFUSED, EXIT_SETUP, EXIT_PENDING = 0, 1, 2, 3, 4
MAX_WAIT_S = 3600


def _database_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    import sqlalchemy.exc
    from eventsourcing import persistence

    return (persistence.OperationalError, persistence.InterfaceError, sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.InterfaceError, sqlite3.OperationalError)


_DATABASE_UNAVAILABLE = _database_errors()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `amanah` console command."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "handler"):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return arguments.handler(arguments)
    except (ConfigurationError, KeyFileError, LedgerNotInitialised) as error:
        print(f"amanah: {error}", file=sys.stderr)
        return EXIT_SETUP
    except _DATABASE_UNAVAILABLE as error:  # a database that fails at start: a set-up problem, in one line
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        print(f"amanah: the database cannot be used: {reason}; check AMANAH_DATABASE_URL and AMANAH_VIEWS_URL",
              file=sys.stderr)
        return EXIT_SETUP
    except LedgerError as error:
        print(f"amanah: refused ({error.code}): {error}", file=sys.stderr)
        return EXIT_REFUSED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amanah", description=(
        "Signed, verifiable ledger of CSR money for informal workers' social security. "
        "Settings come from AMANAH_* environment variables (see docs/operations.md)."))
    parser.add_argument("--home", help="data folder (default: $AMANAH_HOME or ./var)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    init = commands.add_parser("init", help="create the ledger: registrar and checkpoint keys, genesis")
    init.add_argument("--registrar", default="pemkot-jakarta-utara", help="registrar organisation id")
    init.add_argument("--legal-name", default="Pemerintah Kota Administrasi Jakarta Utara")
    init.add_argument("--origin", help="log origin line (default: $AMANAH_ORIGIN)")
    init.add_argument("--if-missing", action="store_true", help="do nothing if the ledger exists")
    init.add_argument("--no-passphrase", action="store_true",
                      help="write the registrar and checkpoint keys without encryption (demo only); otherwise "
                           "$AMANAH_KEY_PASSPHRASE (or a prompt) encrypts the registrar key and "
                           "$AMANAH_CHECKPOINT_KEY_PASSPHRASE the checkpoint key")
    init.set_defaults(handler=command_init)

    keygen = commands.add_parser("keygen", help="write a new Ed25519 private key file (mode 0600)")
    keygen.add_argument("path", type=Path)
    _passphrase_flag(keygen)
    keygen.set_defaults(handler=command_keygen)

    organisation = commands.add_parser("org", help="organisations").add_subparsers(metavar="ACTION")
    add = organisation.add_parser("add", help="register an organisation with its first key")
    add.add_argument("organisation")
    add.add_argument("--legal-name", required=True)
    add.add_argument("--kind", required=True, choices=["company", "baznas", "bpjs", "city", "auditor"])
    add.add_argument("--public-key", required=True, help="base64 raw public key (from keygen)")
    _registrar_flags(add)
    add.set_defaults(handler=command_org_add)

    key = commands.add_parser("key", help="organisation keys").add_subparsers(metavar="ACTION")
    for action, help_text in (("add", "add a key"), ("rotate", "replace a key"), ("revoke", "revoke a key")):
        sub = key.add_parser(action, help=help_text)
        sub.add_argument("organisation")
        if action in ("add", "rotate"):
            sub.add_argument("--public-key", required=True)
        if action == "rotate":
            sub.add_argument("--replaces", required=True, help="key id being replaced")
        if action == "revoke":
            sub.add_argument("key_id")
            sub.add_argument("--reason", required=True)
        _registrar_flags(sub)
        sub.set_defaults(handler=command_key, action=action)

    submit = commands.add_parser("submit", help="sign a file of events and submit it to the ledger")
    submit.add_argument("file", type=Path, help='JSON: {"idempotency_key": ..., "events": [{"type", "occurred_at", "payload"}]}')
    submit.add_argument("--key", type=Path, required=True, help="the actor's private key file")
    submit.add_argument("--actor", required=True, help="the organisation id signing")
    submit.add_argument("--url", help="post to this server (e.g. http://127.0.0.1:8000) instead of the local ledger")
    _passphrase_flag(submit)
    submit.set_defaults(handler=command_submit)

    _import_parser(commands)
    award_parser(commands, _passphrase_flag)

    checkpoint = commands.add_parser("checkpoint", help="print the latest signed checkpoint")
    checkpoint.add_argument("--sign", action="store_true", help="sign one at the current size first")
    checkpoint.add_argument("--json", action="store_true")
    checkpoint.set_defaults(handler=command_checkpoint)

    checkpoint_key = commands.add_parser("checkpoint-key", help="the ledger's checkpoint key").add_subparsers(
        metavar="ACTION")
    rotate = checkpoint_key.add_parser("rotate", help="replace the checkpoint key; the old key cross-signs the "
                                       "new one and earlier checkpoints stay verifiable")
    rotate.add_argument("--plain-key", action="store_true",
                        help="write the new checkpoint key unencrypted (demo only); otherwise it is encrypted "
                             "with $AMANAH_CHECKPOINT_KEY_PASSPHRASE, which the server reads it with")
    _registrar_flags(rotate)
    rotate.set_defaults(handler=command_checkpoint_key_rotate)

    proof = commands.add_parser("proof", help="inclusion and consistency proofs").add_subparsers(metavar="KIND")
    inclusion = proof.add_parser("inclusion", help="entry INDEX in the tree of SIZE")
    inclusion.add_argument("index", type=int)
    inclusion.add_argument("--size", type=int, help="default: current size")
    inclusion.set_defaults(handler=command_proof, kind="inclusion")
    consistency = proof.add_parser("consistency", help="tree FIRST is a prefix of tree SECOND")
    consistency.add_argument("first", type=int)
    consistency.add_argument("second", type=int)
    consistency.set_defaults(handler=command_proof, kind="consistency")

    export = commands.add_parser("export", help="write a bundle for offline verification")
    export.add_argument("directory", type=Path)
    export.set_defaults(handler=command_export)

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

    token = commands.add_parser("token", help="read-access tokens").add_subparsers(metavar="ACTION")
    issue = token.add_parser("issue", help="issue a bearer token for an organisation (shown once)")
    issue.add_argument("organisation")
    issue.add_argument("--label", default="")
    issue.add_argument("--expires-in-days", type=int, metavar="N",
                       help="the token stops working after N days (1-3650); without it, only revocation ends it")
    issue.set_defaults(handler=command_token, action="issue")
    revoke = token.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=command_token, action="revoke")
    listing = token.add_parser("list", help="list tokens (ids only; tokens are stored as hashes)")
    listing.set_defaults(handler=command_token, action="list")

    projections = commands.add_parser("projections", help="read models").add_subparsers(metavar="ACTION")
    for action, help_text in (("run", "catch the views up with the log"), ("rebuild", "rebuild every view from the log")):
        sub = projections.add_parser(action, help=help_text)
        sub.set_defaults(handler=command_projections, action=action)

    statement = commands.add_parser("statement", help="a company's signed impact statement")
    statement.add_argument("company")
    statement.add_argument("--period", required=True, help="2025, 2025-H1 or 2025-H2")
    statement.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    statement.add_argument("--output", type=Path, help="file to write (default: stdout; PDF needs a file)")
    statement.set_defaults(handler=command_document, kind="statement")

    awards = commands.add_parser("awards", help="the signed award list of a year")
    awards.add_argument("year", type=int)
    awards.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    awards.add_argument("--output", type=Path)
    awards.set_defaults(handler=command_document, kind="awards")

    trace = commands.add_parser("trace", help="trace an entry forward and backward")
    trace.add_argument("index", type=int)
    trace.set_defaults(handler=command_trace)

    serve = commands.add_parser("serve", help="run the API with a production WSGI server (gunicorn)")
    serve.add_argument("--bind", default="127.0.0.1:8000")
    serve.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    serve.add_argument("--threads", type=int, default=8, help="threads per process serving requests (default 8)")
    serve.set_defaults(handler=command_serve)

    demo = commands.add_parser("demo", help="build the North Jakarta 2025 demo ledger (deterministic)")
    demo.add_argument("--seed", type=int, default=2025)
    demo.add_argument("--if-missing", action="store_true", help="keep an existing demo ledger")
    demo.set_defaults(handler=command_demo)

    bench = commands.add_parser("bench", help="benchmarks, each beside its baseline (docs/benchmarks.md)")
    bench.add_argument("--scale", type=_scales, default=["tiny"],
                       help="tiny, small, demo or large, or several joined by commas (default tiny)")
    bench.add_argument("--postgres", help="also measure ingest and reads on this PostgreSQL URL")
    bench.add_argument("--output", type=Path, help="write the figures as JSON here")
    bench.add_argument("--markdown", type=Path, help="write the table (for docs/benchmarks.md) here")
    bench.set_defaults(handler=command_bench)

    _witness_parser(commands)

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
    return parser


def _witness_parser(commands) -> None:
    witness = commands.add_parser("witness", help="run a witness that cosigns this or another ledger's "
                                  "checkpoints (docs/witnessing.md)").add_subparsers(metavar="ACTION")
    init = witness.add_parser("init", help="write a witness key and configuration in DIRECTORY")
    init.add_argument("directory", type=Path)
    init.add_argument("--name", required=True, help="the witness's key name, e.g. witness.auditor.example/w1")
    init.add_argument("--log-key", action="append", required=True, metavar="VKEY",
                      help="the checkpoint verifier key of a log to follow (GET /api/v1/keys); repeat")
    _passphrase_flag(init)
    init.set_defaults(handler=command_witness_init)
    serve = witness.add_parser("serve", help="serve add-checkpoint (c2sp.org/tlog-witness)")
    serve.add_argument("--config", type=Path, required=True)
    serve.add_argument("--bind", default="127.0.0.1:8100")
    _passphrase_flag(serve)
    serve.set_defaults(handler=command_witness_serve)
    key = witness.add_parser("key", help="print the witness's verifier key (give it to the ledger and readers)")
    key.add_argument("--config", type=Path, required=True)
    _passphrase_flag(key)
    key.set_defaults(handler=command_witness_key)


def _import_parser(commands) -> None:
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
    _passphrase_flag(importing)
    importing.set_defaults(handler=command_import)


def _scales(text: str) -> list[str]:
    from api.bench import SCALES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCALES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"--scale takes {', '.join(SCALES)} (joined by commas), not {text!r}")
    return names


def _positive_jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError("--jobs is a whole number from 1 to 64")
    return int(text)


def _wait_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT_S:
        raise argparse.ArgumentTypeError(f"--wait takes seconds from 0 to {MAX_WAIT_S}, not {text!r}")
    return seconds


def _passphrase_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-passphrase", action="store_true",
                        help="key file without encryption (demo only); otherwise the passphrase "
                             "comes from $AMANAH_KEY_PASSPHRASE or a prompt")


def _registrar_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registrar-key", type=Path, help="default: HOME/keys/registrar.key")
    _passphrase_flag(parser)


# ---- helpers --------------------------------------------------------------------------------

def _settings(arguments: argparse.Namespace, **overrides: object) -> Settings:
    return Settings.from_environment(home=arguments.home, **overrides)


def _passphrase(arguments: argparse.Namespace, *, confirm: bool = False) -> bytes | None:
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


def _open(settings: Settings, *, signing_checkpoints: bool = True) -> Ledger:
    checkpoint_key = None
    if signing_checkpoints and settings.checkpoint_key_path.exists():
        checkpoint_key = signing.read_private_key(settings.checkpoint_key_path,
                                                  settings.checkpoint_key_passphrase)
    return Ledger(settings, checkpoint_key, personal.read_secret(settings.pseudonym_secret_path))


def _progress(description: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=description, unit="entries", file=sys.stderr, disable=None)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


# ---- commands -------------------------------------------------------------------------------

def command_init(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments, origin=arguments.origin)
    registrar_path = settings.home / "keys" / "registrar.key"
    ledger = _open(settings, signing_checkpoints=False)
    if ledger.size() > 0:
        if arguments.if_missing:
            print(f"ledger exists: {ledger.size()} entries, origin {ledger.origin}")
            return EXIT_OK
        raise LedgerError("the ledger exists already (use --if-missing to accept that)")
    if not (settings.checkpoint_key_passphrase or arguments.no_passphrase or settings.checkpoint_key_path.exists()):
        raise KeyFileError("the checkpoint key would be written unencrypted: set AMANAH_CHECKPOINT_KEY_PASSPHRASE, "
                           "or pass --no-passphrase deliberately (demo only)")
    registrar_passphrase = _passphrase(arguments, confirm=True)  # before any file is written
    private_folder(settings.home / "keys", tighten=True)
    personal.create_secret(settings.pseudonym_secret_path)
    personal_keys.create_kek(settings.personal_kek_path)
    if not settings.checkpoint_key_path.exists():
        signing.write_private_key(signing.generate(), settings.checkpoint_key_path,
                                  settings.checkpoint_key_passphrase)
    checkpoint_key = signing.read_private_key(settings.checkpoint_key_path, settings.checkpoint_key_passphrase)
    registrar_key = signing.generate()
    signing.write_private_key(registrar_key, registrar_path, registrar_passphrase)
    ledger = Ledger(settings, checkpoint_key)
    registrar = Signer(settings.origin, arguments.registrar, registrar_key)
    result = ledger.submit(registrar.one("genesis", "ledger.created", _now(), {
        "organisation": arguments.registrar, "legal_name": arguments.legal_name,
        "public_key": public_key_b64(registrar_key),
        "checkpoint_key": note.verifier_key(settings.origin, signing.public_key_bytes(checkpoint_key)),
    }))
    print(f"created ledger {settings.origin} at {settings.database_url}")
    print(f"registrar key: {registrar_path} (key id {registrar.key_id})")
    print(result["checkpoint"]["note"], end="")
    return EXIT_OK


def command_keygen(arguments: argparse.Namespace) -> int:
    key = signing.generate()
    signing.write_private_key(key, arguments.path, _passphrase(arguments, confirm=True))
    public = signing.public_key_bytes(key)
    _print_json({"path": str(arguments.path), "public_key": signing.b64encode(public),
                 "key_id": signing.key_id(public)})
    return EXIT_OK


def _registrar(arguments: argparse.Namespace, settings: Settings, ledger: Ledger) -> Signer:
    path = arguments.registrar_key or settings.home / "keys" / "registrar.key"
    key = signing.read_private_key(path, _passphrase(arguments))
    genesis = ledger.genesis()
    if genesis is None:
        raise LedgerNotInitialised("the ledger has no genesis entry yet; run `amanah init`")
    return Signer(ledger.origin, genesis.actor, key)


def command_org_add(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    ledger = _open(settings)
    registrar = _registrar(arguments, settings, ledger)
    result = ledger.submit(registrar.one(f"register-{arguments.organisation}", "organisation.registered",
                                         _now(), {"organisation": arguments.organisation,
                                                  "legal_name": arguments.legal_name,
                                                  "kind": arguments.kind, "public_key": arguments.public_key}))
    _print_json(result)
    return EXIT_OK


def command_key(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    ledger = _open(settings)
    registrar = _registrar(arguments, settings, ledger)
    payload: dict = {"organisation": arguments.organisation}
    if arguments.action in ("add", "rotate"):
        payload["public_key"] = arguments.public_key
    if arguments.action == "rotate":
        payload["replaces"] = arguments.replaces
    if arguments.action == "revoke":
        payload.update(key_id=arguments.key_id, reason=arguments.reason)
    event_type = {"add": "key.added", "rotate": "key.rotated", "revoke": "key.revoked"}[arguments.action]
    idempotency_key = f"{event_type}-{arguments.organisation}-{ledger.size()}"
    _print_json(ledger.submit(registrar.one(idempotency_key, event_type, _now(), payload)))
    return EXIT_OK


def command_submit(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    try:
        document = json.loads(arguments.file.read_text())
        events = [(item["type"], item["occurred_at"], item["payload"]) for item in document["events"]]
        idempotency_key = document["idempotency_key"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LedgerError(f"{arguments.file}: expected {{\"idempotency_key\", \"events\": [{{type, "
                          f"occurred_at, payload}}]}} ({error})", field="file") from error
    key = signing.read_private_key(arguments.key, _passphrase(arguments))
    if arguments.url:
        return _post(arguments.url.rstrip("/"), arguments.actor, key, idempotency_key, events)
    ledger = _open(settings)
    signer = Signer(ledger.origin, arguments.actor, key)
    _print_json(ledger.submit(signer.submission(idempotency_key, events)))
    _ask_witnesses(settings, ledger)
    return EXIT_OK


def _post(base: str, actor: str, key, idempotency_key: str, events: list) -> int:
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
            _print_json(json.loads(response.read()))
            return EXIT_OK
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read() or b"{}")
        print(f"amanah: refused ({error.code} {problem.get('code', '')}): {problem.get('detail', error.reason)}",
              file=sys.stderr)
        return EXIT_REFUSED if error.code < 500 else EXIT_SETUP
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        print(f"amanah: cannot reach {base}: {error}", file=sys.stderr)
        return EXIT_SETUP


def command_import(arguments: argparse.Namespace) -> int:
    from api.importing import command

    if arguments.template:
        return command.write_template(arguments.template)
    if not arguments.kind or not arguments.file:
        raise LedgerError("give the kind of file and the file (or --template FILE)", field="file")
    if arguments.submit and not (arguments.key and arguments.actor):
        raise LedgerError("--submit needs --key and --actor", field="--key" if not arguments.key else "--actor")
    settings = _settings(arguments)
    # The local ledger answers NIK look-ups when this machine holds one; a dry run creates nothing.
    ledger = None
    if settings.pseudonym_secret_path.exists():
        ledger = _open(settings, signing_checkpoints=arguments.submit and not arguments.url)
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
    key = signing.read_private_key(arguments.key, _passphrase(arguments))
    if arguments.url:
        code, result = command.submit_remote(plan, arguments.url.rstrip("/"), arguments.actor, key)
    else:
        code, result = command.submit_local(plan, ledger, arguments.actor, key)
    command.show(plan, arguments.json, {"result": result} if code == EXIT_OK else result)
    return code


def command_checkpoint(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    ledger = _open(settings)
    checkpoint = ledger.sign_checkpoint() if arguments.sign else ledger.latest_checkpoint()
    if checkpoint is None:
        raise LedgerNotInitialised("no checkpoint yet: run `amanah init`")
    _ask_witnesses(settings, ledger)
    checkpoint = cosigned(ledger, ledger.latest_checkpoint())
    if arguments.json:
        _print_json(checkpoint)
        return EXIT_OK
    print(checkpoint["note"], end="")
    for item in checkpoint["cosignatures"]:
        print(f"cosigned by {item['witness']} at {item['cosigned_at']}", file=sys.stderr)
    if not checkpoint["cosignatures"]:
        print(f"no witness has cosigned checkpoint {checkpoint['tree_size']} yet", file=sys.stderr)
    return EXIT_OK


def _ask_witnesses(settings: Settings, ledger: Ledger) -> None:
    """Ask the configured witnesses to cosign the latest checkpoint, within their timeouts; a
    witness that does not answer is reported, never fatal (the server's thread asks again)."""
    if not settings.witnesses:
        return
    outcomes = Witnessing(ledger, settings.witnesses, settings.witness_timeout_seconds).witness_latest()
    for name, outcome in outcomes.items():
        if outcome != "cosigned":
            print(f"amanah: witness {name}: {outcome}", file=sys.stderr)


def command_checkpoint_key_rotate(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    if settings.checkpoint_key_passphrase is None and not arguments.plain_key:
        raise KeyFileError("the new checkpoint key is encrypted with AMANAH_CHECKPOINT_KEY_PASSPHRASE, which "
                           "the server reads it with: set it, or pass --plain-key for an unencrypted demo key")
    ledger = _open(settings)
    if ledger.checkpoint_key is None:
        raise ConfigurationError(f"no checkpoint key at {settings.checkpoint_key_path}", field="AMANAH_CHECKPOINT_KEY")
    registrar = _registrar(arguments, settings, ledger)
    old_verifier_key = verifier_key_of(ledger.origin, ledger.current_checkpoint_key())
    path = settings.checkpoint_key_path
    retired = path.with_name(f"{path.name}.retired-{old_verifier_key.split('+')[1]}")
    if retired.exists():
        raise KeyFileError(f"{retired} exists already; refusing to overwrite a key")
    new_key = signing.generate()
    new_verifier_key = ledger.hold_checkpoint_key(new_key)
    staged = path.with_name(f"{path.name}.new-{new_verifier_key.split('+')[1]}")
    signing.write_private_key(new_key, staged, settings.checkpoint_key_passphrase)
    try:
        payload = rotation_payload(ledger.origin, ledger.checkpoint_key, new_verifier_key)
        result = ledger.submit(registrar.one(f"checkpoint-key-{new_verifier_key.split('+')[1]}", ROTATION_TYPE,
                                             _now(), payload))
    except BaseException:
        staged.unlink()  # never used: nothing signed with it
        raise
    os.link(path, retired)  # keep the old key under another name, then switch the configured file at once
    os.replace(staged, path)
    _print_json({"checkpoint_key": new_verifier_key, "replaces": old_verifier_key, "entry": result["first_index"],
                 "key_file": str(path), "retired_key_file": str(retired), "checkpoint": result["checkpoint"]})
    return EXIT_OK


def command_proof(arguments: argparse.Namespace) -> int:
    ledger = _open(_settings(arguments), signing_checkpoints=False)
    if arguments.kind == "inclusion":
        _print_json(ledger.inclusion_proof(arguments.index, arguments.size or ledger.size()))
    else:
        _print_json(ledger.consistency_proof(arguments.first, arguments.second))
    return EXIT_OK


def command_export(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    ledger = _open(settings, signing_checkpoints=False)
    _ask_witnesses(settings, ledger)  # so the newest checkpoint in the bundle is witnessed
    bar, update = _progress("export")
    with bar:
        manifest = export_bundle(ledger, arguments.directory, update)
    print(f"exported {manifest['tree_size']} entries to {arguments.directory} (root {manifest['root']})")
    return EXIT_OK


def command_forget(arguments: argparse.Namespace) -> int:
    ledger = _open(_settings(arguments), signing_checkpoints=False)
    if arguments.nik:
        reference = ledger.worker_reference_for(personal.check_nik(arguments.nik, "--nik"))
        if reference is None:
            print("no worker is indexed under that NIK (never enrolled with it, or erased before)")
            return EXIT_OK
        subject = f"worker:{reference}"
    elif arguments.subject:
        subject = arguments.subject if ":" in arguments.subject else f"worker:{arguments.subject}"
    else:
        raise LedgerError("give a worker reference, worker:<ref>, heir:<claim> or --nik", field="subject")
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
    ledger = _open(_settings(arguments), signing_checkpoints=False)
    from ledger import personal_store

    count = personal_keys.rotate(ledger.recorder.write, ledger.personal_keys,
                                 ledger.recorder.read(personal_store.read_kek_id),
                                 lambda cursor, dialect, plain: personal.index_plain_keyed_workers(
                                     cursor, dialect, ledger.pseudonym_secret, plain))
    print(f"rewrapped {count} per-person keys under a new key-encryption key in {ledger.personal_keys.path}; "
          "the old one is gone: restart running servers")
    return EXIT_OK


def _services(arguments: argparse.Namespace):
    from api.services import Services

    return Services.build(_settings(arguments))


def command_token(arguments: argparse.Namespace) -> int:
    services = _services(arguments)
    if arguments.action == "issue":
        if services.ledger.organisation(arguments.organisation) is None:
            raise LedgerError(f"{arguments.organisation!r} is not a registered organisation", field="organisation")
        token, token_id = services.tokens.issue(arguments.organisation, arguments.label, arguments.expires_in_days)
        expiry = f", expires in {arguments.expires_in_days} days" if arguments.expires_in_days else ""
        print(f"token for {arguments.organisation} (id {token_id}{expiry}); it is shown only now:")
        print(token)
    elif arguments.action == "revoke":
        services.tokens.revoke(arguments.token_id)
        print(f"revoked {arguments.token_id}")
    else:
        _print_json(services.tokens.list())
    return EXIT_OK


def command_projections(arguments: argparse.Namespace) -> int:
    services = _services(arguments)
    bar, update = _progress(f"projections {arguments.action}")
    with bar:
        count = (services.runner.rebuild if arguments.action == "rebuild" else services.runner.run)(update)
    print(f"applied {count} entries; views at {services.runner.position()} of {services.ledger.size()}")
    failure = services.runner.failure()
    if failure is not None:
        print(f"views stopped at entry {failure['position']} ({failure['failed_at']}): {failure['error']}",
              file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def command_document(arguments: argparse.Namespace) -> int:
    from projections import render

    services = _services(arguments)
    if arguments.kind == "statement":
        document = services.reports.statement(arguments.company, arguments.period)
    else:
        document = services.reports.awards(arguments.year)
    if arguments.format == "json":
        body: bytes = json.dumps(document, indent=2, ensure_ascii=False).encode()
    elif arguments.format == "csv":
        body = (render.statement_csv if arguments.kind == "statement" else render.awards_csv)(document).encode()
    else:
        if arguments.output is None:
            raise LedgerError("a PDF needs --output FILE", field="output")
        body = (render.statement_pdf if arguments.kind == "statement" else render.awards_pdf)(document)
    if arguments.output:
        arguments.output.write_bytes(body)
        print(f"wrote {arguments.output}")
    else:
        sys.stdout.write(body.decode() + "\n")
    return EXIT_OK


def command_trace(arguments: argparse.Namespace) -> int:
    from api.app import create_app
    from api.resources.audit import trace_entry

    app = create_app({"SETTINGS": _settings(arguments)})
    with app.app_context():
        _print_json(trace_entry(arguments.index))
    return EXIT_OK


def command_serve(arguments: argparse.Namespace) -> int:
    from api.server import serve

    settings = _settings(arguments)
    return serve(settings, arguments.bind, arguments.workers, arguments.threads)


def command_demo(arguments: argparse.Namespace) -> int:
    from api.demo import build_demo, demo_tokens

    settings = _settings(arguments)
    ledger = _open(settings, signing_checkpoints=False)
    exists = ledger.size() > 0
    ledger.close()
    if exists and not arguments.if_missing:
        raise LedgerError(f"{settings.database_url} holds a ledger already; use --if-missing or another "
                          "AMANAH_HOME", field="AMANAH_HOME")
    if not exists:
        bar, update = _progress("building the demo year")
        bar.unit = "steps"
        with bar:
            facts = build_demo(settings, arguments.seed, update)
        print(f"demo ledger: {facts['tree_size']:,} entries, {facts['workers_enrolled']:,} workers, "
              f"{len(facts['contributors'])} contributing companies")
    services = _services(arguments)
    bar, update = _progress("catching up the views")
    with bar:
        services.runner.run(update)
    for organisation, token in demo_tokens(settings, services.tokens).items():
        print(f"token {organisation}: {token}")
    return EXIT_OK


def command_bench(arguments: argparse.Namespace) -> int:
    from api.bench import run
    from api.bench_report import markdown

    results = [run(scale, arguments.postgres, None) for scale in arguments.scale]
    if arguments.output:
        arguments.output.write_text(json.dumps(results if len(results) > 1 else results[0], indent=2) + "\n")
    if arguments.markdown:
        arguments.markdown.write_text(markdown(results))
        print(f"wrote {arguments.markdown}")
    return EXIT_OK


def command_verify(arguments: argparse.Namespace) -> int:
    if arguments.db == (arguments.bundle is not None):
        raise LedgerError("give a BUNDLE directory or --db (one of them)", field="bundle")
    if arguments.statement and arguments.db:
        raise LedgerError("--statement checks a statement against a BUNDLE, not --db", field="statement")
    kept = [kept_checkpoint_note(path) for path in arguments.since_checkpoint]
    policy = _witness_policy(arguments)
    checks = [StatementCheck(read_statement(path), witness_policy=policy) for path in arguments.statement]
    bar, update = _progress("verify")
    with bar:
        if arguments.db:
            ledger = _open(_settings(arguments), signing_checkpoints=False)
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


def command_witness_init(arguments: argparse.Namespace) -> int:
    from api.witness_app import read_config

    directory = arguments.directory
    config = directory / "witness.json"
    if config.exists():
        raise LedgerError(f"{config} exists already; refusing to replace a witness", field="directory")
    logs: dict[str, list[str]] = {}
    for text in arguments.log_key:
        origin, _ = note.parse_verifier_key(text)  # the ledger names its checkpoint key by its origin
        logs.setdefault(origin, []).append(text)
    passphrase = _passphrase(arguments, confirm=True)
    key = signing.generate()
    signing.write_private_key(key, directory / "witness.key", passphrase)
    config.write_text(json.dumps({"name": arguments.name, "key": "witness.key", "database": "witness.db",
                                  "logs": [{"origin": origin, "verifier_keys": keys}
                                           for origin, keys in logs.items()]}, indent=2) + "\n")
    read_config(config)  # the name and keys are checked the way `serve` will read them
    print(f"witness configuration: {config}")
    print(cosigner_verifier_key(arguments.name, signing.public_key_bytes(key)))
    return EXIT_OK


def command_witness_key(arguments: argparse.Namespace) -> int:
    from api.witness_app import open_witness, read_config

    witness, state = open_witness(read_config(arguments.config), _passphrase(arguments))
    state.close()
    print(witness.verifier_key)
    return EXIT_OK


def command_witness_serve(arguments: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from api.witness_app import create_witness_app, open_witness, read_config

    host, _, port = arguments.bind.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput("--bind is HOST:PORT", field="bind")
    witness, state = open_witness(read_config(arguments.config), _passphrase(arguments))
    server = make_server(host, int(port), create_witness_app(witness, state), threaded=True)
    print(f"witness {witness.name} on http://{host}:{server.server_port}/add-checkpoint", flush=True)
    print(f"verifier key: {witness.verifier_key}", flush=True)
    signal.signal(signal.SIGTERM, lambda number, frame: server.shutdown())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.close()
    return EXIT_OK


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    sys.exit(main())
