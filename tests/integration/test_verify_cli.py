"""`amanah verify` as an auditor runs it, as a real process: exit code 1 and a FAIL line naming
the entry and the check for tampering, 0 for an intact log, 2 for input it cannot use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.forgery import SOLO, entries_of, publish_rewritten, refresh_digests, set_in, write_entries
from tests.integration.support import raw_database

REPOSITORY = Path(__file__).resolve().parents[2]


def amanah_verify(log, *arguments: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AMANAH_")}
    environment.update(AMANAH_HOME=str(log.settings.home), AMANAH_DATABASE_URL=log.settings.database_url)
    return subprocess.run([sys.executable, "-m", "cli", "verify", *map(str, arguments)], cwd=REPOSITORY,
                          env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_a_changed_amount_in_a_bundle_fails_verify_naming_the_entry(log, bundle):
    assert amanah_verify(log, bundle).returncode == 0
    entries = entries_of(bundle)
    set_in(entries[SOLO], ("envelope", "payload", "amount_rupiah"), lambda amount: amount + 1)
    write_entries(bundle, entries)
    refresh_digests(bundle)
    result = amanah_verify(log, bundle)
    assert result.returncode == 1, result
    assert f"FAIL entry {SOLO}: signature: signature does not verify" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAILED: 16 entries")


def test_an_edited_database_row_fails_verify_db_naming_the_entry(log, tmp_path):
    (tmp_path / "kept.json").write_text(json.dumps(log.ledger.latest_checkpoint()))
    assert amanah_verify(log, "--db", "--since-checkpoint", tmp_path / "kept.json").returncode == 0
    with raw_database(log.settings.database_url) as database:
        state = database.read_state(SOLO)
        database.allow_changes("events")
        database.write_state(SOLO, state.replace(b"7654321", b"7654329"))
    result = amanah_verify(log, "--db")
    assert result.returncode == 1, result
    assert f"FAIL entry {SOLO}: signature" in result.stdout
    assert f"FAIL entry {SOLO}: subtree: stored leaf hash differs" in result.stdout


def test_a_rewrite_with_the_real_key_fails_only_against_the_auditors_earlier_export(log, bundle, tmp_path):
    entries = entries_of(bundle)
    del entries[SOLO]
    sizes = [row["tree_size"] for row in log.ledger.checkpoints()]
    publish_rewritten(tmp_path / "forged", entries, sizes, log.checkpoint_key, log.settings.origin)
    assert amanah_verify(log, tmp_path / "forged").returncode == 0

    result = amanah_verify(log, tmp_path / "forged", "--since-checkpoint", bundle)
    assert result.returncode == 1, result
    assert "FAIL log: kept-checkpoint: you kept a checkpoint at size 16 but the log holds 15 entries" in result.stdout
    (tmp_path / "size-5.note").write_text(log.ledger.checkpoints(5, 1)[0]["note"])
    result = amanah_verify(log, tmp_path / "forged", "--since-checkpoint", tmp_path / "size-5.note")
    assert result.returncode == 1, result
    assert f"FAIL entry {SOLO}: split-view" in result.stdout


def test_what_verify_cannot_use_is_refused(log, bundle, tmp_path):
    result = amanah_verify(log, bundle, "--since-checkpoint", tmp_path / "missing.note")
    assert result.returncode == 2 and "holds no checkpoint" in result.stderr, result
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "format": "amanah-bundle/9"}))
    result = amanah_verify(log, bundle)
    assert result.returncode == 2 and "unknown bundle format 'amanah-bundle/9'" in result.stderr, result
