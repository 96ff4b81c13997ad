"""The `amanah` command line as an operator uses it, run as real processes against SQLite and
PostgreSQL: exit codes 0 ok, 1 verification failed, 2 refused, 3 set-up problem."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger import note, payloads, signing
from tests.integration.support import PROGRAMME, WHEN

REPOSITORY = Path(__file__).resolve().parents[2]
PASSPHRASE = "kata sandi rahasia"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


@dataclass
class Operator:
    """Someone at a shell with AMANAH_HOME and AMANAH_DATABASE_URL set."""

    home: Path
    database_url: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("AMANAH_")}
        return {**env, "AMANAH_HOME": str(self.home), "AMANAH_DATABASE_URL": self.database_url, **extra}

    def run(self, *arguments: str, **extra_env: str) -> Run:
        done = subprocess.run([sys.executable, "-m", "cli", *arguments], cwd=REPOSITORY,
                              env=self.env(**extra_env), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=120)
        return Run(done.returncode, done.stdout, done.stderr)

    def ok(self, *arguments: str, **extra_env: str) -> Run:
        result = self.run(*arguments, **extra_env)
        assert result.code == 0, (arguments, result)
        return result

    def events_file(self, name: str, idempotency_key: str, events: list[tuple[str, dict]]) -> Path:
        path = self.home / name
        path.write_text(json.dumps({"idempotency_key": idempotency_key, "events": [
            {"type": event_type, "occurred_at": WHEN, "payload": payload} for event_type, payload in events]}))
        return path


@pytest.fixture
def operator(database_url, tmp_path) -> Operator:
    """`amanah init`, a city and a company with keys from `amanah keygen`, and an open programme."""
    operator = Operator(tmp_path / "home", database_url)
    created = operator.ok("init", "--no-passphrase")
    assert "created ledger" in created.stdout

    city = operator.ok("keygen", str(tmp_path / "city.key"), "--no-passphrase").json()
    company = operator.ok("keygen", str(tmp_path / "company.key"), AMANAH_KEY_PASSPHRASE=PASSPHRASE).json()
    assert company["key_id"] == signing.key_id(signing.b64decode(company["public_key"], "public_key"))
    operator.keys = {"city": city, "company": company}

    for organisation, kind, key in (("pemkot-jakut", "city", city), ("pt-maju-bersama", "company", company)):
        added = operator.ok("org", "add", organisation, "--kind", kind, "--legal-name", organisation.upper(),
                            "--public-key", key["public_key"], "--no-passphrase").json()
        assert added["count"] == 1 and not added["replayed"]
    operator.ok("submit", str(operator.events_file("programme.json", "open", [
        ("programme.opened", payloads.programme_opened(PROGRAMME, 2025))])),
        "--key", city["path"], "--actor", "pemkot-jakut", "--no-passphrase")
    return operator


def test_keys_submit_replay_and_refusals(operator, tmp_path):
    # keygen writes private keys only their owner can read, encrypted when a passphrase is set
    for path in (tmp_path / "city.key", tmp_path / "company.key", operator.home / "keys" / "registrar.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert (tmp_path / "city.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "company.key").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = operator.run("keygen", str(tmp_path / "city.key"), "--no-passphrase")
    assert again.code == 3 and "exists already" in again.stderr  # a key is never overwritten

    company_key = operator.keys["company"]["path"]
    pledge_file = operator.events_file("pledge.json", "pledge-1", [
        ("pledge.made", payloads.pledge(PROGRAMME, "p-1", 25_000_000))])
    submit = ("submit", str(pledge_file), "--key", company_key, "--actor", "pt-maju-bersama")

    stored = operator.ok(*submit, AMANAH_KEY_PASSPHRASE=PASSPHRASE).json()
    assert (stored["first_index"], stored["count"], stored["replayed"]) == (4, 1, False)
    assert stored["checkpoint"]["tree_size"] == 5 and stored["checkpoint_includes_entries"]

    replay = operator.ok(*submit, AMANAH_KEY_PASSPHRASE=PASSPHRASE).json()
    assert replay["replayed"] is True and replay["first_index"] == 4

    # The same idempotency key for another amount is refused: exit 2 and one line on stderr.
    changed = operator.events_file("changed.json", "pledge-1", [
        ("pledge.made", payloads.pledge(PROGRAMME, "p-1", 30_000_000))])
    refused = operator.run("submit", str(changed), "--key", company_key, "--actor", "pt-maju-bersama",
                           AMANAH_KEY_PASSPHRASE=PASSPHRASE)
    assert refused.code == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("amanah: refused (idempotency-conflict)")

    # Signing as an organisation whose key this is not: refused as well.
    impostor = operator.run(*submit[:-1], "pemkot-jakut", AMANAH_KEY_PASSPHRASE=PASSPHRASE)
    assert impostor.code == 2 and impostor.stderr.count("\n") == 1 and "refused (" in impostor.stderr

    # An encrypted key without its passphrase is a set-up problem, said in one line.
    locked = operator.run(*submit)
    assert locked.code == 3 and locked.stderr.count("\n") == 1 and "passphrase" in locked.stderr

    size = operator.ok("checkpoint", "--json").json()["tree_size"]
    assert size == 5  # nothing refused was stored


def test_checkpoint_export_verify_and_tampering(operator, tmp_path):
    pledge_file = operator.events_file("pledges.json", "pledges-1", [
        ("pledge.made", payloads.pledge(PROGRAMME, f"p-{n}", 1_000_000 * (n + 1))) for n in range(3)])
    operator.ok("submit", str(pledge_file), "--key", operator.keys["company"]["path"], "--actor", "pt-maju-bersama",
                AMANAH_KEY_PASSPHRASE=PASSPHRASE)

    checkpoint = operator.ok("checkpoint").stdout
    lines = checkpoint.splitlines()
    origin = lines[0]
    assert lines[1] == "7" and lines[3] == "" and lines[-1].startswith(f"\u2014 {origin} ")
    checkpoint_key = signing.read_private_key(operator.home / "keys" / "checkpoint.key", None)
    assert note.verify_checkpoint(checkpoint, origin, signing.public_key_bytes(checkpoint_key)).size == 7

    bundle = tmp_path / "bundle"
    exported = operator.ok("export", str(bundle))
    assert "exported 7 entries" in exported.stdout

    verified = operator.run("verify", str(bundle))
    assert verified.code == 0 and verified.stdout.startswith("OK: 7 entries"), verified
    assert operator.run("verify", "--db").code == 0

    entries = bundle / "entries.jsonl"
    lines = entries.read_bytes().splitlines(keepends=True)
    # Format 2 (the default): entries 0-3 are a line each, then the record of the batch of three
    # pledges (entries 4-6) and their envelope lines; line 6 is entry 5's.
    line = json.loads(lines[6])
    line["envelope"]["payload"]["amount_rupiah"] = 99_000_000
    lines[6] = json.dumps(line).encode() + b"\n"
    entries.write_bytes(b"".join(lines))

    tampered = operator.run("verify", str(bundle))
    assert tampered.code == 1, tampered
    assert "FAIL entry 5: signature" in tampered.stdout
    assert tampered.stdout.splitlines()[-1].startswith("FAILED:")
    assert operator.run("verify", "--db").code == 0  # the database itself is untouched
