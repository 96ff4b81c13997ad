"""An importer at a shell: the programme world, its BPJS and Baznas keys in files, and the
`amanah import` command run in-process against the world's database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli import main as cli
from api.spreadsheet_writing import write_csv, write_xlsx
from ledger import signing
from ledger.entry import parse_entry
from tests.domain.conftest import PROGRAMME, Programme, programme  # noqa: F401

NIKS = [f"317101{day:02d}0185{number:04d}" for day, number in zip(range(1, 29), range(1, 29))]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


@dataclass
class Importer:
    programme: Programme
    folder: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture

    @property
    def ledger(self):
        return self.programme.ledger

    def key_file(self, signer) -> Path:
        path = self.folder / f"{signer.actor}.key"
        if not path.exists():
            signing.write_private_key(signer.private_key, path, None)
        return path

    def run(self, *arguments: str) -> Result:
        settings = self.programme.world.settings
        self.monkeypatch.setenv("AMANAH_HOME", str(settings.home))
        self.monkeypatch.setenv("AMANAH_DATABASE_URL", settings.database_url)
        self.capsys.readouterr()
        code = cli.main([str(argument) for argument in arguments])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def dry_run(self, kind: str, path: Path, *options: str) -> Result:
        return self.run("import", kind, path, "--json", *options)

    def submit(self, kind: str, path: Path, signer, *options: str) -> Result:
        return self.run("import", kind, path, "--json", "--submit", "--key", self.key_file(signer),
                        "--actor", signer.actor, "--no-passphrase", *options)

    def write(self, name: str, settings: list[tuple[str, str]], columns: list[str], rows: list[list]) -> Path:
        """A filled-in file, CSV or XLSX by its name."""
        path = self.folder / name
        if name.endswith(".csv"):
            path.write_bytes(write_csv(settings, columns, rows))
        else:
            path.write_bytes(write_xlsx(name, settings, columns, rows, text_columns={"nik", "worker"}))
        return path

    def stored(self, first_index: int, count: int) -> list[tuple[str, dict]]:
        """(type, payload) of the entries a submission stored."""
        entries = self.ledger.entries(first_index, count)
        return [(entry.type, entry.payload) for entry in (parse_entry(leaf) for _, leaf in entries)]

    def snapshot(self) -> tuple:
        return self.ledger.size(), self.ledger.latest_checkpoint()


@pytest.fixture
def importer(programme, tmp_path, monkeypatch, capsys) -> Importer:
    folder = tmp_path / "files"
    folder.mkdir()
    return Importer(programme, folder, monkeypatch, capsys)
