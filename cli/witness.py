"""`amanah witness`: run a witness that cosigns this or another ledger's checkpoints
(docs/witnessing.md)."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from cli import common
from cli.common import EXIT_OK
from ledger import note, signing
from ledger.errors import InvalidInput
from ledger.witness import cosigner_verifier_key


def add_parsers(commands) -> None:
    witness = commands.add_parser("witness", help="run a witness that cosigns this or another ledger's "
                                  "checkpoints (docs/witnessing.md)").add_subparsers(metavar="ACTION")
    init = witness.add_parser("init", help="write a witness key and configuration in DIRECTORY")
    init.add_argument("directory", type=Path)
    init.add_argument("--name", required=True, help="the witness's key name, e.g. witness.auditor.example/w1")
    init.add_argument("--log-key", action="append", required=True, metavar="VKEY",
                      help="the checkpoint verifier key of a log to follow (GET /api/v1/keys); repeat")
    common.passphrase_flag(init)
    init.set_defaults(handler=command_witness_init)
    serve = witness.add_parser("serve", help="serve add-checkpoint (c2sp.org/tlog-witness)")
    serve.add_argument("--config", type=Path, required=True)
    serve.add_argument("--bind", default="127.0.0.1:8100")
    common.passphrase_flag(serve)
    serve.set_defaults(handler=command_witness_serve)
    key = witness.add_parser("key", help="print the witness's verifier key (give it to the ledger and readers)")
    key.add_argument("--config", type=Path, required=True)
    common.passphrase_flag(key)
    key.set_defaults(handler=command_witness_key)


def command_witness_init(arguments: argparse.Namespace) -> int:
    from api.witness_app import read_config

    directory = arguments.directory
    config = directory / "witness.json"
    if config.exists():
        raise common.FileExists(f"{config} exists already; refusing to replace a witness", field="directory")
    logs: dict[str, list[str]] = {}
    for text in arguments.log_key:
        origin, _ = note.parse_verifier_key(text)  # the ledger names its checkpoint key by its origin
        logs.setdefault(origin, []).append(text)
    passphrase = common.passphrase(arguments, confirm=True)
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

    witness, state = open_witness(read_config(arguments.config), common.passphrase(arguments))
    state.close()
    print(witness.verifier_key)
    return EXIT_OK


def command_witness_serve(arguments: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from api.witness_app import create_witness_app, open_witness, read_config

    host, _, port = arguments.bind.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput("--bind is HOST:PORT", field="bind")
    witness, state = open_witness(read_config(arguments.config), common.passphrase(arguments))
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
