"""`amanah init`, `keygen`, `org`, `key`, `submit`, `checkpoint`, `checkpoint-key`, `proof` and
`export`: creating the ledger, its organisations and keys, and reading its log."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cli import common
from cli.common import EXIT_OK
from ledger import signing, wiring
from ledger.bundle import export_bundle
from ledger.checkpoint_keys import ROTATION_TYPE, rotation_payload, verifier_key_of
from ledger.client import Signer
from ledger.errors import (
    ConfigurationError, InvalidInput, KeyFileError, LedgerAlreadyInitialised, LedgerNotInitialised,
)
from ledger.private_files import private_folder
from ledger.witness_table import cosigned


def add_setup_parsers(commands) -> None:
    """The commands that create the ledger, its organisations and keys, and submit to it."""
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
    common.passphrase_flag(keygen)
    keygen.set_defaults(handler=command_keygen)

    organisation = commands.add_parser("org", help="organisations").add_subparsers(metavar="ACTION")
    add = organisation.add_parser("add", help="register an organisation with its first key")
    add.add_argument("organisation")
    add.add_argument("--legal-name", required=True)
    add.add_argument("--kind", required=True, choices=["company", "baznas", "bpjs", "city", "auditor"])
    add.add_argument("--public-key", required=True, help="base64 raw public key (from keygen)")
    common.registrar_flags(add)
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
        common.registrar_flags(sub)
        sub.set_defaults(handler=command_key, action=action)

    submit = commands.add_parser("submit", help="sign a file of events and submit it to the ledger")
    submit.add_argument("file", type=Path, help='JSON: {"idempotency_key": ..., "events": [{"type", "occurred_at", "payload"}]}')
    submit.add_argument("--key", type=Path, required=True, help="the actor's private key file")
    submit.add_argument("--actor", required=True, help="the organisation id signing")
    submit.add_argument("--url", help="post to this server (e.g. http://127.0.0.1:8000) instead of the local ledger")
    common.passphrase_flag(submit)
    submit.set_defaults(handler=command_submit)


def add_log_parsers(commands) -> None:
    """The commands that read the log: checkpoints, proofs, bundles; and rotate the checkpoint key."""
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
    common.registrar_flags(rotate)
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
    export.add_argument("--format", type=int, choices=(1, 2), default=2, dest="bundle_format",
                        help="bundle format: 2 (default) writes each submission's shared members once; "
                        "1 for verifiers that read only format 1 (docs/verifying.md)")
    export.set_defaults(handler=command_export)


def command_init(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments, origin=arguments.origin)
    registrar_path = settings.home / "keys" / "registrar.key"
    ledger = common.open_ledger(settings, signing_checkpoints=False)
    if ledger.size() > 0:
        if arguments.if_missing:
            print(f"ledger exists: {ledger.size()} entries, origin {ledger.origin}")
            return EXIT_OK
        raise LedgerAlreadyInitialised("the ledger exists already (use --if-missing to accept that)")
    if not (settings.checkpoint_key_passphrase or arguments.no_passphrase or settings.checkpoint_key_path.exists()):
        raise KeyFileError("the checkpoint key would be written unencrypted: set AMANAH_CHECKPOINT_KEY_PASSPHRASE, "
                           "or pass --no-passphrase deliberately (demo only)")
    registrar_passphrase = common.passphrase(arguments, confirm=True)  # before any file is written
    private_folder(settings.home / "keys", tighten=True)
    checkpoint_key = wiring.prepare_files(settings)
    registrar_key = signing.generate()
    signing.write_private_key(registrar_key, registrar_path, registrar_passphrase)
    registrar = Signer(settings.origin, arguments.registrar, registrar_key)
    ledger, (result,) = wiring.create_ledger(settings, checkpoint_key, registrar, arguments.legal_name,
                                             created_at=common.now())
    print(f"created ledger {settings.origin} at {settings.database_url}")
    print(f"registrar key: {registrar_path} (key id {registrar.key_id})")
    print(result["checkpoint"]["note"], end="")
    return EXIT_OK


def command_keygen(arguments: argparse.Namespace) -> int:
    key = signing.generate()
    signing.write_private_key(key, arguments.path, common.passphrase(arguments, confirm=True))
    public = signing.public_key_bytes(key)
    common.print_json({"path": str(arguments.path), "public_key": signing.b64encode(public),
                 "key_id": signing.key_id(public)})
    return EXIT_OK


def command_org_add(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments)
    ledger = common.open_ledger(settings)
    registrar = common.registrar(arguments, settings, ledger)
    result = ledger.submit(registrar.one(f"register-{arguments.organisation}", "organisation.registered",
                                         common.now(), {"organisation": arguments.organisation,
                                                  "legal_name": arguments.legal_name,
                                                  "kind": arguments.kind, "public_key": arguments.public_key}))
    common.print_json(result)
    return EXIT_OK


def command_key(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments)
    ledger = common.open_ledger(settings)
    registrar = common.registrar(arguments, settings, ledger)
    payload: dict = {"organisation": arguments.organisation}
    if arguments.action in ("add", "rotate"):
        payload["public_key"] = arguments.public_key
    if arguments.action == "rotate":
        payload["replaces"] = arguments.replaces
    if arguments.action == "revoke":
        payload.update(key_id=arguments.key_id, reason=arguments.reason)
    event_type = {"add": "key.added", "rotate": "key.rotated", "revoke": "key.revoked"}[arguments.action]
    idempotency_key = f"{event_type}-{arguments.organisation}-{ledger.size()}"
    common.print_json(ledger.submit(registrar.one(idempotency_key, event_type, common.now(), payload)))
    return EXIT_OK


def command_submit(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments)
    try:
        document = json.loads(arguments.file.read_text())
        events = [(item["type"], item["occurred_at"], item["payload"]) for item in document["events"]]
        idempotency_key = document["idempotency_key"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidInput(f"{arguments.file}: expected {{\"idempotency_key\", \"events\": [{{type, "
                           f"occurred_at, payload}}]}} ({error})", field="file") from error
    key = signing.read_private_key(arguments.key, common.passphrase(arguments))
    if arguments.url:
        return common.post(arguments.url.rstrip("/"), arguments.actor, key, idempotency_key, events)
    ledger = common.open_ledger(settings)
    signer = Signer(ledger.origin, arguments.actor, key)
    common.print_json(ledger.submit(signer.submission(idempotency_key, events)))
    common.ask_witnesses(settings, ledger)
    return EXIT_OK


def command_checkpoint(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments)
    ledger = common.open_ledger(settings)
    checkpoint = ledger.sign_checkpoint() if arguments.sign else ledger.latest_checkpoint()
    if checkpoint is None:
        raise LedgerNotInitialised("no checkpoint yet: run `amanah init`")
    common.ask_witnesses(settings, ledger)
    checkpoint = cosigned(ledger, ledger.latest_checkpoint())
    if arguments.json:
        common.print_json(checkpoint)
        return EXIT_OK
    print(checkpoint["note"], end="")
    for item in checkpoint["cosignatures"]:
        print(f"cosigned by {item['witness']} at {item['cosigned_at']}", file=sys.stderr)
    if not checkpoint["cosignatures"]:
        print(f"no witness has cosigned checkpoint {checkpoint['tree_size']} yet", file=sys.stderr)
    return EXIT_OK


def command_checkpoint_key_rotate(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments)
    if settings.checkpoint_key_passphrase is None and not arguments.plain_key:
        raise KeyFileError("the new checkpoint key is encrypted with AMANAH_CHECKPOINT_KEY_PASSPHRASE, which "
                           "the server reads it with: set it, or pass --plain-key for an unencrypted demo key")
    ledger = common.open_ledger(settings)
    if ledger.checkpoint_key is None:
        raise ConfigurationError(f"no checkpoint key at {settings.checkpoint_key_path}", field="AMANAH_CHECKPOINT_KEY")
    registrar = common.registrar(arguments, settings, ledger)
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
                                             common.now(), payload))
    except BaseException:
        staged.unlink()  # never used: nothing signed with it
        raise
    os.link(path, retired)  # keep the old key under another name, then switch the configured file at once
    os.replace(staged, path)
    common.print_json({"checkpoint_key": new_verifier_key, "replaces": old_verifier_key, "entry": result["first_index"],
                 "key_file": str(path), "retired_key_file": str(retired), "checkpoint": result["checkpoint"]})
    return EXIT_OK


def command_proof(arguments: argparse.Namespace) -> int:
    ledger = common.open_ledger(common.settings(arguments), signing_checkpoints=False)
    if arguments.kind == "inclusion":
        common.print_json(ledger.inclusion_proof(arguments.index, arguments.size or ledger.size()))
    else:
        common.print_json(ledger.consistency_proof(arguments.first, arguments.second))
    return EXIT_OK


def command_export(arguments: argparse.Namespace) -> int:
    settings = common.settings(arguments)
    ledger = common.open_ledger(settings, signing_checkpoints=False)
    common.ask_witnesses(settings, ledger)  # so the newest checkpoint in the bundle is witnessed
    bar, update = common.progress("export")
    with bar:
        manifest = export_bundle(ledger, arguments.directory, update, arguments.bundle_format)
    print(f"exported {manifest['tree_size']} entries to {arguments.directory} (root {manifest['root']})")
    return EXIT_OK
