"""Private key files and the checkpoint key's rotation through the `amanah` command line, run as
real processes on SQLite and PostgreSQL: keys are encrypted by default, mode 0600, never
overwritten, unreadable without their passphrase; `amanah checkpoint-key rotate` switches the
configured key and every checkpoint before and after it still verifies."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ledger import note, signing
from ledger.config import DEFAULT_ORIGIN
from ledger.errors import KeyFileError
from tests.integration.test_cli import Operator

PASSPHRASE = "kata sandi rahasia"
CHECKPOINT_PASSPHRASE = "kunci checkpoint"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def pem_kind(path: Path) -> str:
    return path.read_text().splitlines()[0]


ENCRYPTED, PLAIN = "-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----"


def test_keygen_encrypts_by_default_and_never_overwrites(tmp_path):
    operator = Operator(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.db'}")
    key_file = tmp_path / "company.key"
    refused = operator.run("keygen", str(key_file))  # no passphrase, no terminal to ask on
    assert refused.code == 3 and "--no-passphrase" in refused.stderr and not key_file.exists()

    made = operator.ok("keygen", str(key_file), AMANAH_KEY_PASSPHRASE=PASSPHRASE).json()
    assert mode(key_file) == 0o600 and pem_kind(key_file) == ENCRYPTED
    before = key_file.read_bytes()
    for extra in ((), ("--no-passphrase",)):
        again = operator.run("keygen", str(key_file), *extra, AMANAH_KEY_PASSPHRASE=PASSPHRASE)
        assert again.code == 3 and "exists already; refusing to overwrite" in again.stderr
    assert key_file.read_bytes() == before

    with pytest.raises(KeyFileError, match="is encrypted: give its passphrase"):
        signing.read_private_key(key_file, None)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        signing.read_private_key(key_file, b"not it")
    operator.home.mkdir()
    events = operator.events_file("events.json", "e-1", [("pledge.made", {})])
    for extra, message in ((), "a passphrase is needed"), (("--no-passphrase",), "is encrypted: give its passphrase"):
        locked = operator.run("submit", str(events), "--key", str(key_file), "--actor", "pt-contoh", *extra)
        assert locked.code == 3 and locked.stderr.count("\n") == 1 and message in locked.stderr, locked
    key = signing.read_private_key(key_file, PASSPHRASE.encode())
    assert signing.b64encode(signing.public_key_bytes(key)) == made["public_key"]

    plain = tmp_path / "demo.key"
    operator.ok("keygen", str(plain), "--no-passphrase")
    assert mode(plain) == 0o600 and pem_kind(plain) == PLAIN
    with pytest.raises(KeyFileError, match="is not encrypted, yet a passphrase was given"):
        signing.read_private_key(plain, PASSPHRASE.encode())


def test_init_writes_keys_only_their_owner_reads_and_never_replaces_one(tmp_path, database_url):
    operator = Operator(tmp_path / "home", database_url)
    keys = operator.home / "keys"
    refused = operator.run("init")  # the registrar key needs a passphrase or --no-passphrase
    assert refused.code == 3 and "passphrase" in refused.stderr
    assert not keys.exists() or not any(keys.iterdir())  # refused before writing any key
    operator.ok("init", AMANAH_KEY_PASSPHRASE=PASSPHRASE, AMANAH_CHECKPOINT_KEY_PASSPHRASE=CHECKPOINT_PASSPHRASE)
    for name in ("registrar.key", "checkpoint.key", "pseudonym.secret"):
        assert mode(keys / name) == 0o600, name
    assert pem_kind(keys / "registrar.key") == ENCRYPTED and pem_kind(keys / "checkpoint.key") == ENCRYPTED
    # A command that needs the registrar key, without its passphrase: a clear set-up error.
    locked = operator.run("org", "add", "pt-contoh", "--legal-name", "PT Contoh", "--kind", "company",
                          "--public-key", signing.b64encode(bytes(32)),
                          AMANAH_CHECKPOINT_KEY_PASSPHRASE=CHECKPOINT_PASSPHRASE)
    assert locked.code == 3 and locked.stderr.count("\n") == 1 and "passphrase" in locked.stderr

    # Another ledger in the same home (a fresh database) must not replace the registrar key.
    before = (keys / "registrar.key").read_bytes()
    elsewhere = Operator(operator.home, f"sqlite:///{tmp_path / 'other.db'}")
    again = elsewhere.run("init", AMANAH_KEY_PASSPHRASE=PASSPHRASE,
                          AMANAH_CHECKPOINT_KEY_PASSPHRASE=CHECKPOINT_PASSPHRASE)
    assert again.code == 3 and "refusing to overwrite" in again.stderr
    assert (keys / "registrar.key").read_bytes() == before


def verifier_key(path: Path) -> str:
    key = signing.read_private_key(path, CHECKPOINT_PASSPHRASE.encode())
    return note.verifier_key(DEFAULT_ORIGIN, signing.public_key_bytes(key))


def test_checkpoint_key_rotate_switches_the_key_file_and_everything_still_verifies(tmp_path, database_url):
    operator = Operator(tmp_path / "home", database_url)
    env = {"AMANAH_CHECKPOINT_KEY_PASSPHRASE": CHECKPOINT_PASSPHRASE}
    operator.ok("init", "--no-passphrase", **env)
    key_file = operator.home / "keys" / "checkpoint.key"
    genesis_key = verifier_key(key_file)

    refused = operator.run("checkpoint-key", "rotate", "--no-passphrase")  # the new key could not be encrypted
    assert refused.code == 3 and "AMANAH_CHECKPOINT_KEY_PASSPHRASE" in refused.stderr
    assert verifier_key(key_file) == genesis_key

    rotated = operator.ok("checkpoint-key", "rotate", "--no-passphrase", **env).json()
    assert rotated["replaces"] == genesis_key and rotated["entry"] == 1
    retired = Path(rotated["retired_key_file"])
    assert verifier_key(retired) == genesis_key and pem_kind(retired) == ENCRYPTED
    assert verifier_key(key_file) == rotated["checkpoint_key"] != genesis_key
    assert mode(key_file) == 0o600 and pem_kind(key_file) == ENCRYPTED
    assert sorted(path.name for path in key_file.parent.iterdir()) == [
        "checkpoint.key", retired.name, "personal.kek", "pseudonym.secret", "registrar.key"]
    name, public = note.parse_verifier_key(rotated["checkpoint_key"])
    assert note.verify_checkpoint(rotated["checkpoint"]["note"], name, public).size == 2

    # Later commands (new processes) sign with the new key; a second rotation chains on.
    company = operator.ok("keygen", str(tmp_path / "company.key"), "--no-passphrase").json()
    added = operator.ok("org", "add", "pt-contoh", "--legal-name", "PT Contoh", "--kind", "company",
                        "--public-key", company["public_key"], "--no-passphrase", **env).json()
    assert note.verify_checkpoint(added["checkpoint"]["note"], name, public).size == 3
    second = operator.ok("checkpoint-key", "rotate", "--no-passphrase", **env).json()
    assert second["replaces"] == rotated["checkpoint_key"] and second["entry"] == 3

    assert operator.ok("verify", "--db", **env).stdout.startswith("OK: 4 entries, 4 checkpoints")
    bundle = tmp_path / "bundle"
    operator.ok("export", str(bundle), **env)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert [key["verifier_key"] for key in manifest["checkpoint_keys"]] == [
        genesis_key, rotated["checkpoint_key"], second["checkpoint_key"]]
    origin = DEFAULT_ORIGIN
    pinned = operator.run("verify", str(bundle), "--origin", origin, "--checkpoint-key", genesis_key)
    assert pinned.code == 0 and pinned.stdout.startswith("OK: 4 entries, 4 checkpoints"), pinned
    stranger = note.verifier_key(origin, signing.public_key_bytes(signing.generate()))
    wrong = operator.run("verify", str(bundle), "--checkpoint-key", stranger)
    assert wrong.code == 1 and "FAIL entry 0: checkpoint-key" in wrong.stdout
