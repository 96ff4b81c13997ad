"""An auditor who only verifies installs the project without extras, in a fresh virtual
environment (no system site-packages), and `amanah verify BUNDLE` says OK; Flask, gunicorn,
fpdf2, psycopg and SQLAlchemy are not installed for it. Slow (about half a minute: pip installs
the base dependencies from the index or wheels this machine is configured with), never skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from ledger.bundle import export_bundle

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED = ("ledger", "projections", "api", "cli")
SERVER_ONLY = ("flask", "flask_smorest", "marshmallow", "gunicorn", "fpdf", "openpyxl", "psycopg", "sqlalchemy")


def _source_copy(folder: Path) -> Path:
    """The project's shipped packages and metadata, copied so the build writes nothing in the checkout."""
    for name in SHIPPED:
        shutil.copytree(REPOSITORY / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, folder / name)
    return folder


def _run(command: list, **options) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("AMANAH_", "PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run([str(part) for part in command], env=environment, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, **options)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_verifier_installs_without_the_server_extra_and_verifies_a_bundle(world, tmp_path):
    bundle = tmp_path / "bundle"
    export_bundle(world.ledger, bundle)
    environment = tmp_path / "verifier"
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(environment)
    python = environment / "bin" / "python"
    source = _source_copy(tmp_path / "source")
    installed = _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", source],
                     cwd=tmp_path, timeout=600)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    probe = "import importlib.util, sys; print(' '.join(n for n in sys.argv[1:] if importlib.util.find_spec(n)))"
    present = _run([python, "-c", probe, *SERVER_ONLY], cwd=tmp_path, timeout=60)
    assert present.returncode == 0 and present.stdout.split() == [], present

    verified = _run([environment / "bin" / "amanah", "verify", bundle], cwd=tmp_path, timeout=300)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    assert verified.stdout.strip().splitlines()[-1].startswith(f"OK: {world.ledger.size()} entries")

    served = _run([environment / "bin" / "amanah", "--home", tmp_path / "home", "serve"], cwd=tmp_path, timeout=120)
    assert served.returncode == 3 and "pip install 'amanah-ledger[server]'" in served.stderr, served
