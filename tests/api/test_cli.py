"""The `amanah` command line as a person or a script uses it: subprocesses, exit codes, files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


def amanah(home, *arguments, passphrase=None, database_url=None, check=True):
    environment = {**os.environ, "AMANAH_HOME": str(home)}
    environment.pop("AMANAH_KEY_PASSPHRASE", None)
    environment["AMANAH_CHECKPOINT_KEY_PASSPHRASE"] = "checkpoint horse"  # init refuses a plain key otherwise
    if passphrase:
        environment["AMANAH_KEY_PASSPHRASE"] = passphrase
    if database_url:
        environment["AMANAH_DATABASE_URL"] = database_url
    completed = subprocess.run([sys.executable, "-m", "cli", *arguments], env=environment, capture_output=True,
                               text=True, timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def test_init_keys_submit_export_verify_and_exit_codes(tmp_path, database_url):
    home = tmp_path / "home"
    created = amanah(home, "init", passphrase="correct horse", database_url=database_url)
    assert "\u2014" in created.stdout
    registrar_key = home / "keys" / "registrar.key"
    assert stat.S_IMODE(registrar_key.stat().st_mode) == 0o600 and b"ENCRYPTED" in registrar_key.read_bytes()
    assert amanah(home, "init", "--if-missing", database_url=database_url).returncode == 0
    key = json.loads(amanah(home, "keygen", str(tmp_path / "company.key"), "--no-passphrase").stdout)
    assert stat.S_IMODE((tmp_path / "company.key").stat().st_mode) == 0o600
    refused_without_passphrase = amanah(home, "org", "add", "pt-contoh", "--legal-name", "PT Contoh", "--kind",
                                        "company", "--public-key", key["public_key"], database_url=database_url,
                                        check=False)
    assert refused_without_passphrase.returncode == 3 and "passphrase" in refused_without_passphrase.stderr
    amanah(home, "org", "add", "pt-contoh", "--legal-name", "PT Contoh", "--kind", "company", "--public-key",
           key["public_key"], passphrase="correct horse", database_url=database_url)
    issued = amanah(home, "token", "issue", "pt-contoh", "--expires-in-days", "7", database_url=database_url)
    assert "expires in 7 days" in issued.stdout
    [listed] = json.loads(amanah(home, "token", "list", database_url=database_url).stdout)
    assert listed["organisation"] == "pt-contoh" and listed["expires_at"] > listed["issued_at"]
    never = amanah(home, "token", "issue", "pt-contoh", "--expires-in-days", "0", database_url=database_url,
                   check=False)
    assert never.returncode != 0 and "expires_in_days" in never.stderr
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"idempotency_key": "p-1", "events": [{"type": "pledge.made",
                                  "occurred_at": "2025-01-06T09:00:00Z", "payload": {
                                      "programme": "x-2025", "pledge": "pl-1", "amount_rupiah": 5}}]}))
    refused = amanah(home, "submit", str(events), "--key", str(tmp_path / "company.key"), "--actor", "pt-contoh",
                     "--no-passphrase", database_url=database_url, check=False)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "programme" in refused.stderr
    bundle = tmp_path / "bundle"
    amanah(home, "export", str(bundle), database_url=database_url)
    verified = amanah(home, "verify", str(bundle))
    assert verified.stdout.strip().splitlines()[-1].startswith("OK: 2 entries")
    assert amanah(home, "verify", "--db", database_url=database_url).returncode == 0
    lines = (bundle / "entries.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace("PT Contoh", "PT Palsu")
    (bundle / "entries.jsonl").write_text("\n".join(lines) + "\n")
    failed = amanah(home, "verify", str(bundle), check=False)
    assert failed.returncode == 1 and "FAIL entry 1: signature" in failed.stdout


def test_help_is_everywhere():
    for command in ([], ["init"], ["submit"], ["verify"], ["export"], ["token", "issue"], ["statement"], ["serve"],
                    ["demo"], ["forget"], ["projections", "rebuild"], ["key", "rotate"], ["checkpoint-key", "rotate"]):
        completed = subprocess.run([sys.executable, "-m", "cli", *command, "--help"], capture_output=True,
                                   text=True, timeout=60)
        assert completed.returncode == 0 and "usage: amanah" in completed.stdout, command
    # The benchmark is a script of the checkout, not a command shipped to servers and auditors.
    completed = subprocess.run([sys.executable, "-m", "scripts.benchmarks.bench", "--help"], capture_output=True,
                               text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert completed.returncode == 0 and "usage: scripts/bench" in completed.stdout
