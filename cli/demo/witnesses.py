"""The demo's two witnesses, the city's and the auditor's: each gets a key and a configuration in
HOME/witnesses/, is served on a loopback port while the demo asks it to cosign the checkpoint the
demo ends on, and can be started again later with `amanah witness serve`."""

from __future__ import annotations

import json
from pathlib import Path

from ledger import signing
from ledger.checkpoint_keys import verifier_key_of
from ledger.witness_client import WitnessEndpoint, Witnessing
from api.witness_app import ThreadedWitness, open_witness, read_config

DEMO_WITNESSES = (("city", "witness.jakarta-utara.example/kota"),
                  ("auditor", "witness.audit-baznas.example/auditor"))


def _configure(directory: Path, name: str, origin: str, log_key: str) -> Path:
    config = directory / "witness.json"
    if not config.exists():
        directory.mkdir(parents=True, exist_ok=True)
        signing.write_private_key(signing.generate(), directory / "witness.key", None)  # demo: no passphrase
        config.write_text(json.dumps({"name": name, "key": "witness.key", "database": "witness.db",
                                      "logs": [{"origin": origin, "verifier_keys": [log_key]}]}, indent=2) + "\n")
    return config


def witness_demo(home: Path, ledger, checkpoint_key) -> list[dict]:
    """Have both demo witnesses cosign the ledger's latest checkpoint; returns who cosigned what."""
    log_key = verifier_key_of(ledger.origin, checkpoint_key)
    servers, endpoints = [], []
    try:
        for slug, name in DEMO_WITNESSES:
            witness, state = open_witness(read_config(_configure(home / "witnesses" / slug, name, ledger.origin,
                                                                 log_key)), None)
            servers.append(ThreadedWitness(witness, state))
            endpoints.append(WitnessEndpoint(servers[-1].url, witness.verifier_key))
        outcomes = Witnessing(ledger, endpoints, 5.0).witness_latest()
    finally:
        for server in servers:
            server.stop()
    size = ledger.latest_checkpoint()["tree_size"]
    return [{"name": endpoint.name, "verifier_key": endpoint.verifier_key, "tree_size": size,
             "outcome": outcomes.get(endpoint.name, "cosigned")} for endpoint in endpoints]
