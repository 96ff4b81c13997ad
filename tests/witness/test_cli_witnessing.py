"""Witnessing as an operator and an auditor use it: `amanah witness init/serve`, `amanah checkpoint`
naming the cosigners, and `amanah verify --witness ... --quorum K` on exported bundles (SQLite)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import note, signing
from tests.witness.support import ROOT, WitnessProcess


class Shell:
    def __init__(self, home: Path):
        self.home = home
        self.witnesses = ""

    def run(self, *arguments: str) -> subprocess.CompletedProcess:
        env = {name: value for name, value in os.environ.items() if not name.startswith("AMANAH_")}
        env.update(AMANAH_HOME=str(self.home), AMANAH_WITNESSES=self.witnesses, AMANAH_WITNESS_TIMEOUT_SECONDS="2")
        return subprocess.run([sys.executable, "-m", "cli", *arguments], cwd=ROOT, env=env, text=True,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=120)

    def ok(self, *arguments: str) -> subprocess.CompletedProcess:
        done = self.run(*arguments)
        assert done.returncode == 0, (arguments, done.stdout, done.stderr)
        return done


@pytest.fixture
def shell(tmp_path):
    shell = Shell(tmp_path / "ledger")
    shell.ok("init", "--no-passphrase")
    return shell


def _log_key(shell: Shell) -> str:
    origin = shell.ok("checkpoint", "--json").stdout
    key = signing.read_private_key(shell.home / "keys" / "checkpoint.key", None)
    return note.verifier_key(json.loads(origin)["note"].split("\n")[0], signing.public_key_bytes(key))


def test_two_witnesses_cosign_and_an_auditor_enforces_the_quorum(shell, tmp_path):
    log_key = _log_key(shell)
    keys, processes = [], []
    for name in ("witness.city.test/w1", "witness.auditor.test/w1"):
        directory = tmp_path / name.split("/")[0]
        created = shell.ok("witness", "init", str(directory), "--name", name, "--log-key", log_key, "--no-passphrase")
        keys.append(created.stdout.strip().splitlines()[-1])
        assert shell.ok("witness", "key", "--config", str(directory / "witness.json"),
                        "--no-passphrase").stdout.strip() == keys[-1]
        processes.append(WitnessProcess(directory / "witness.json"))
    try:
        shell.witnesses = ",".join(f"{process.base} {key}" for process, key in zip(processes, keys))
        shown = shell.ok("checkpoint")
        assert "cosigned by witness.city.test/w1 at" in shown.stderr
        assert "cosigned by witness.auditor.test/w1 at" in shown.stderr
        assert shown.stdout.count("\u2014 ") == 3  # the log's signature and two cosignatures
        shell.ok("export", str(tmp_path / "bundle"))
        policy = ["--witness", keys[0], "--witness", keys[1], "--quorum", "2", "--max-cosignature-age", "600"]
        assert "OK:" in shell.ok("verify", str(tmp_path / "bundle"), *policy).stdout

        # The auditor's witness goes down: writes go on, and the newest checkpoint has one cosignature.
        processes[1].kill()
        public_key = json.loads(shell.ok("keygen", str(tmp_path / "other.key"), "--no-passphrase").stdout)["public_key"]
        shell.ok("org", "add", "pt-baru", "--legal-name", "PT Baru", "--kind", "company", "--public-key",
                 public_key, "--no-passphrase")
        shown = shell.ok("checkpoint")
        assert "witness witness.auditor.test/w1: unreachable" in shown.stderr
        shell.ok("export", str(tmp_path / "bundle-2"))
        refused = shell.run("verify", str(tmp_path / "bundle-2"), *policy)
        assert refused.returncode == 1 and "1 of the 2 cosignatures" in refused.stdout
        assert shell.run("verify", str(tmp_path / "bundle-2"), "--witness", keys[0], "--quorum", "1").returncode == 0
        assert shell.run("verify", "--db", *policy).returncode == 1

        # It returns on the same port and is caught up with a consistency proof.
        processes[1] = WitnessProcess(tmp_path / "witness.auditor.test" / "witness.json", port=processes[1].port)
        assert "cosigned by witness.auditor.test/w1" in shell.ok("checkpoint").stderr
        assert shell.run("verify", "--db", *policy).returncode == 0
    finally:
        for process in processes:
            if process.process.poll() is None:
                process.kill()


def test_policy_flags_that_cannot_work_are_refused(shell, tmp_path):
    bundle = tmp_path / "bundle"
    shell.ok("export", str(bundle))
    log_key = _log_key(shell)
    done = shell.run("verify", str(bundle), "--quorum", "1")
    assert done.returncode == 2 and "--witness" in done.stderr
    done = shell.run("verify", str(bundle), "--witness", log_key)
    assert done.returncode == 2 and "0x04" in done.stderr
    created = shell.ok("witness", "init", str(tmp_path / "w"), "--name", "w.test/1", "--log-key", log_key,
                       "--no-passphrase")
    key = created.stdout.strip().splitlines()[-1]
    done = shell.run("verify", str(bundle), "--witness", key, "--quorum", "2")
    assert done.returncode == 2 and "quorum" in done.stderr
    done = shell.run("verify", str(bundle), "--witness", key)
    assert done.returncode == 1 and "no cosignatures" in done.stdout
