"""`amanah verify` imports nothing of the server extra (Flask, flask-smorest, marshmallow,
gunicorn, fpdf2, openpyxl, psycopg, SQLAlchemy): a process where each of them fails to import
verifies a bundle, and tampering is still found. The slow twin, test_verifier_install.py,
installs the package without the extra; this one runs in a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import SERVER_ONLY_MODULES
from tests.integration.forgery import SOLO

REPOSITORY = Path(__file__).resolve().parents[2]
BLOCKED = sorted(SERVER_ONLY_MODULES)
# Every server-only module is made unimportable (`sys.modules[name] = None`) before the command
# line is imported; afterwards the process reports which of them got in anyway.
PROGRAM = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None
from cli.main import main
code = main(sys.argv[1:])
loaded = sorted(name for name in sys.modules if name.split(".")[0] in {blocked!r} and sys.modules[name] is not None)
print(json.dumps({{"exit": code, "loaded": loaded}}))
"""


def verify_without_server(*arguments: object) -> tuple[dict, str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AMANAH_")}
    completed = subprocess.run([sys.executable, "-c", PROGRAM.format(blocked=BLOCKED), "verify",
                                *map(str, arguments)], cwd=REPOSITORY, env=environment, capture_output=True,
                               text=True, timeout=300)
    last = completed.stdout.strip().splitlines()[-1]
    return json.loads(last), completed.stdout, completed.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_verify_runs_with_every_server_module_blocked(bundle):
    outcome, stdout, stderr = verify_without_server(bundle)
    assert outcome == {"exit": 0, "loaded": []}, stdout[-2000:] + stderr[-2000:]
    assert "OK: " in stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_the_server_a_tampered_bundle_still_fails(bundle):
    entries = bundle / "entries.jsonl"
    lines = entries.read_text().splitlines()
    record = json.loads(lines[SOLO])
    record["entry"]["envelope"]["payload"]["amount_rupiah"] += 1
    lines[SOLO] = json.dumps(record)
    entries.write_text("\n".join(lines) + "\n")
    outcome, stdout, stderr = verify_without_server(bundle)
    assert outcome["exit"] == 1 and outcome["loaded"] == [], stdout[-2000:] + stderr[-2000:]
