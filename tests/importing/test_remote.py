"""`amanah import --url`: the real server (gunicorn) receives the signed file, a second submission
of the same file returns the original, and a row the server's rules refuse is named by its row."""

from __future__ import annotations

import pytest

from tests.importing.conftest import PROGRAMME
from tests.reliability.support import Server, kill_group

RECEIPT_COLUMNS = ["receipt", "company", "amount_rupiah", "received_on"]


@pytest.fixture
def server(importer):
    settings = importer.programme.world.settings
    running = Server.start(settings.home, settings.database_url).wait_ready()
    yield f"http://127.0.0.1:{running.port}"
    kill_group(running.process)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_file_submitted_to_a_server_is_stored_once_and_a_refused_row_is_named(importer, server, tmp_path):
    baznas = importer.programme.baznas
    good = importer.write("kuitansi.csv", [("programme", PROGRAMME)], RECEIPT_COLUMNS,
                          [["R-1", "pt-maju-bersama", "1000000", "2025-02-03"]])
    bad = importer.write("kuitansi-2.csv", [("programme", PROGRAMME)], RECEIPT_COLUMNS, [
        ["R-2", "pt-maju-bersama", "1000000", "2025-02-03"], ["R-3", "pt-tidak-ada", "5000", "2025-02-03"]])
    key = importer.key_file(baznas)
    elsewhere = tmp_path / "laptop"  # a Baznas laptop: no ledger, no pseudonym secret
    before = importer.ledger.size()

    def remote(path):
        return importer.run("--home", elsewhere, "import", "receipts", path, "--json", "--submit", "--key", key,
                            "--actor", baznas.actor, "--no-passphrase", "--url", server)

    first = remote(good)
    assert first.code == 0, first
    assert first.json()["result"]["first_index"] == before and importer.ledger.size() == before + 1
    again = remote(good)
    assert again.code == 0 and again.json()["result"]["replayed"] is True and importer.ledger.size() == before + 1
    refused = remote(bad)
    assert refused.code == 2 and importer.ledger.size() == before + 1
    assert (refused.json()["refused"]["row"], refused.json()["refused"]["column"]) == (5, "company")
