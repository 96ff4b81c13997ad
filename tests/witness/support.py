"""A small in-memory log that signs checkpoints like the ledger, and a witness around it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle, note, signing
from ledger.witness import add_checkpoint_body, cosigner_verifier_key

ORIGIN = "amanah.test/ledger"
ROOT = Path(__file__).resolve().parents[2]


class MemoryLog:
    """Leaves in memory; checkpoints signed by `key` under ORIGIN."""

    def __init__(self, key: Ed25519PrivateKey, leaves: list[bytes], origin: str = ORIGIN):
        self.key, self.origin = key, origin
        self.leaves = list(leaves)

    def _read(self, size: int):
        nodes = dict(merkle.append_nodes([], 0, [merkle.leaf_hash(leaf) for leaf in self.leaves[:size]]))
        return lambda keys: {key: nodes[key] for key in keys if key in nodes}

    def root(self, size: int) -> bytes:
        return merkle.root_from_store(size, self._read(size))

    def checkpoint(self, size: int) -> str:
        return note.sign_note(note.checkpoint_body(self.origin, size, self.root(size)), self.origin, self.key)

    def proof(self, old: int, size: int) -> list[bytes]:
        return [] if old in (0, size) else merkle.consistency_proof(old, size, self._read(size))

    def request(self, old: int, size: int) -> bytes:
        return add_checkpoint_body(old, self.proof(old, size), self.checkpoint(size))

    @property
    def verifier_key(self) -> str:
        return note.verifier_key(self.origin, signing.public_key_bytes(self.key))


def leaves(prefix: str, count: int, start: int = 0) -> list[bytes]:
    return [f"{prefix}-{index}".encode() for index in range(start, start + count)]


def key_from(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


def write_witness_config(directory: Path, name: str, logs: dict[str, list[str]]) -> tuple[Path, str]:
    """A witness key file and configuration in `directory`; returns (config path, vkey)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = signing.generate()
    signing.write_private_key(key, directory / "witness.key", None)
    config = directory / "witness.json"
    config.write_text(json.dumps({"name": name, "key": "witness.key", "database": "witness.db",
                                  "logs": [{"origin": origin, "verifier_keys": keys} for origin, keys in logs.items()]}))
    return config, cosigner_verifier_key(name, signing.public_key_bytes(key))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LoopbackWitness:
    """A witness served on 127.0.0.1 from a thread; `stop` and `start` again keep its port and file."""

    def __init__(self, config: Path, port: int = 0):
        self.config, self.port, self.running = config, port, None

    def start(self) -> LoopbackWitness:
        from api.witness_app import ThreadedWitness, open_witness, read_config

        self.running = ThreadedWitness(*open_witness(read_config(self.config), None), port=self.port)
        self.port = self.running.server.server_port
        return self

    def stop(self) -> None:
        self.running.stop()
        self.running = None

    @property
    def state(self):
        return self.running.state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class WitnessProcess:
    """`amanah witness serve` as a real process on a free loopback port (or `port`); `pause` runs
    it with a test script (tests/witness/test_witness_crash.py)."""

    def __init__(self, config: Path, pause: tuple[Path, str] | None = None, port: int = 0, script: str = ""):
        serve = ["witness", "serve", "--config", str(config), "--bind", f"127.0.0.1:{port}", "--no-passphrase"]
        command = [sys.executable, "-c", script, str(pause[0]), pause[1], *serve] if pause else \
            [sys.executable, "-m", "cli", *serve]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, (line, self.process.stderr.read() if self.process.poll() is not None else "")
        self.port = int(found.group(1))
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/add-checkpoint"

    def post(self, body: bytes, timeout: float = 10) -> tuple[int, str]:
        request = urllib.request.Request(self.url, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process.stdout.close()
        self.process.stderr.close()
