"""The witness's own small web app (c2sp.org/tlog-witness): `amanah witness serve`.

POST /add-checkpoint       the tlog-witness call: cosign a checkpoint that extends the last one
GET  /checkpoint?origin=   the latest checkpoint this witness cosigned, freshly cosigned (gossip)
GET  /evidence             recorded evidence of inconsistent checkpoints (forks)
GET  /                     the witness's name, verifier key and the logs it follows
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, jsonify, request

from ledger import note, signing
from ledger.errors import ConfigurationError, InvalidInput, KeyFileError, LedgerError
from ledger.witness import (
    MAX_REQUEST_BYTES, InconsistentCheckpoint, StaleOldSize, UnknownLog, UntrustedCheckpoint, Witness,
    cosign, with_signature_lines,
)
from ledger.witness_store import SQLiteWitnessState

SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class WitnessConfig:
    name: str
    key_path: Path
    database: Path
    logs: dict[str, list[str]]


def read_config(path: Path) -> WitnessConfig:
    """The witness configuration file (JSON; relative paths are relative to the file):
    {"name": ..., "key": ..., "database": ..., "logs": [{"origin": ..., "verifier_keys": [...]}]}"""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
        base = path.parent
        logs: dict[str, list[str]] = {}
        for position, log in enumerate(raw["logs"]):
            keys = log["verifier_keys"]
            for key in keys:
                note.parse_verifier_key(key)
            if not isinstance(log["origin"], str) or not keys:
                raise ValueError(f"logs[{position}] needs an origin and at least one verifier key")
            logs[log["origin"]] = list(keys)
        name = raw["name"]
        if not isinstance(name, str) or not name or " " in name or "+" in name:
            raise ValueError("name is a key name: no spaces and no '+'")
        return WitnessConfig(name, base / raw["key"], base / raw.get("database", "witness.db"), logs)
    except (OSError, ValueError, KeyError, TypeError, InvalidInput) as error:
        # The operator's file, not a client's request: a set-up problem (exit code 3).
        raise ConfigurationError(f"{path}: not a witness configuration: {error}", field="config") from None


def open_witness(config: WitnessConfig, passphrase: bytes | None) -> tuple[Witness, SQLiteWitnessState]:
    """The witness of a configuration, with its key read and its database opened."""
    if not config.key_path.exists():
        raise KeyFileError(f"no witness key at {config.key_path}: make one with `amanah keygen`")
    key = signing.read_private_key(config.key_path, passphrase)
    state = SQLiteWitnessState(config.database)
    return Witness(config.name, key, config.logs, state, time.time), state


def create_witness_app(witness: Witness, state: SQLiteWitnessState) -> Flask:
    """The Flask app of one witness."""
    app = Flask("amanah-witness")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @app.post("/add-checkpoint")
    def add_checkpoint():
        try:
            return Response(witness.add_checkpoint(request.get_data()), mimetype="text/plain")
        except StaleOldSize as error:
            return Response(f"{error.witness_size}\n", status=409, mimetype=SIZE_TYPE)
        except LedgerError as error:
            return Response(f"{error}\n", status=_status(error), mimetype="text/plain")

    @app.get("/checkpoint")
    def latest():
        origin = request.args.get("origin", "")
        seen = state.latest(origin) if origin in witness.logs else None
        if seen is None:
            return Response(f"no checkpoint of {origin!r} cosigned here\n", status=404, mimetype="text/plain")
        body = note.parse_checkpoint(seen.note_text).body
        line = cosign(body, witness.name, witness.private_key, int(witness.clock()))
        return Response(with_signature_lines(seen.note_text, [line]), mimetype="text/plain")

    @app.get("/evidence")
    def evidence():
        return jsonify(state.evidence())

    @app.get("/")
    def about():
        return jsonify({"name": witness.name, "verifier_key": witness.verifier_key,
                        "logs": {origin: {"size": seen.size if seen else 0}
                                 for origin in witness.logs for seen in [state.latest(origin)]}})

    return app


def _status(error: LedgerError) -> int:
    if isinstance(error, UnknownLog):
        return 404
    if isinstance(error, UntrustedCheckpoint):
        return 403
    if isinstance(error, InconsistentCheckpoint):
        return error.status
    return 400


class ThreadedWitness:
    """A witness served from a thread on 127.0.0.1 (the demo's witnesses, and tests)."""

    def __init__(self, witness: Witness, state: SQLiteWitnessState, port: int = 0):
        import threading

        from werkzeug.serving import make_server

        self.state = state
        self.server = make_server("127.0.0.1", port, create_witness_app(witness, state), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="amanah-witness", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.state.close()
