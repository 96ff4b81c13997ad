"""Template -> filled file -> dry run -> signed submission, for each file BPJS and Baznas keep:
the entries stored are exactly those of the equivalent JSON built with ledger/payloads.py, a dry
run stores nothing, and the same file submitted again returns the original entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.importing import template
from api.spreadsheets import read_table
from ledger import payloads
from ledger.bundle import verify_database
from tests.importing.conftest import NIKS, PROGRAMME

BPJS = "bpjs-kelapa-gading"


def reference_of(ledger, nik: str) -> str:
    """The worker reference the ledger's index holds for a NIK."""
    reference = ledger.worker_reference_for(nik)
    assert reference is not None, nik
    return reference


def fill(importer, kind: str, file_format: str, settings: dict[str, str], rows: list[dict]) -> Path:
    """Start from the template (its layout and header) and put our values in."""
    _, data = template(Path(f"{kind}.{file_format}"))
    from cli.importing import KINDS

    spec = KINDS[kind]
    table = read_table(data, file_format, spec.known_columns, spec.known_settings)
    assert not table.refusals and set(table.settings) == {column.name for column in spec.settings}
    return importer.write(f"{kind}-filled.{file_format}", list(settings.items()), table.columns,
                          [[row.get(name, "") for name in table.columns] for row in rows])


def dry_run_then_submit(importer, kind: str, path: Path, signer, expected_rows: int) -> dict:
    before = importer.snapshot()
    dry = importer.dry_run(kind, path)
    assert dry.code == 0, dry.stdout[-1500:]
    report = dry.json()
    assert (report["rows"], report["rows_accepted"], report["refusals"]) == (expected_rows, expected_rows, [])
    assert importer.snapshot() == before, "a dry run stored something"
    submitted = importer.submit(kind, path, signer)
    assert submitted.code == 0, submitted
    result = submitted.json()["result"]
    assert result["replayed"] is False
    again = importer.submit(kind, path, signer)
    assert again.code == 0 and again.json()["result"] == {**result, "replayed": True}, again
    assert importer.ledger.size() == result["first_index"] + result["count"]
    return result


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_four_files_give_the_entries_of_the_equivalent_json(importer, file_format):
    p = importer.programme
    receipts = fill(importer, "receipts", file_format, {"programme": PROGRAMME}, [
        {"receipt": "R-1", "company": "pt-maju-bersama", "amount_rupiah": "1.000.000", "received_on": "2025-02-03",
         "fund_type": "infak"},
        {"receipt": "R-2", "company": "pt-sinar-laut", "amount_rupiah": "500000", "received_on": "2025-02-10"}])
    result = dry_run_then_submit(importer, "receipts", receipts, p.baznas, 2)
    assert importer.stored(result["first_index"], result["count"]) == [
        ("donation.received", payloads.receipt(PROGRAMME, "R-1", "pt-maju-bersama", 1_000_000, "2025-02-03")),
        ("donation.received", payloads.receipt(PROGRAMME, "R-2", "pt-sinar-laut", 500_000, "2025-02-10"))]

    source = {"disbursement": "D-1", "to": BPJS, "period": "2025-03", "made_on": "2025-03-01"}
    disbursements = fill(importer, "disbursements", file_format, {"programme": PROGRAMME}, [
        {**source, "receipt": "R-1", "company": "pt-maju-bersama", "amount_rupiah": "300000"},
        {**source, "receipt": "R-2", "company": "pt-sinar-laut", "amount_rupiah": "200000"}])
    result = dry_run_then_submit(importer, "disbursements", disbursements, p.baznas, 2)
    assert importer.stored(result["first_index"], result["count"]) == [("disbursement.made", payloads.disbursement(
        PROGRAMME, "D-1", BPJS, "2025-03", "2025-03-01",
        [("R-1", "pt-maju-bersama", 300_000), ("R-2", "pt-sinar-laut", 200_000)]))]

    people = [("ojek_online", "tidak"), ("dasawisma", "ya"), ("jumantik", "no")]
    enrolments = fill(importer, "enrolments", file_format, {"programme": PROGRAMME}, [
        {"nik": nik, "name": f"Pekerja {position}", "phone": f"0812 0000 000{position}", "category": category,
         "kelurahan": "Kelapa Gading Barat", "income_rupiah": "1000000", "jht": jht, "enrolled_on": "2025-01-15"}
        for position, (nik, (category, jht)) in enumerate(zip(NIKS, people))])
    result = dry_run_then_submit(importer, "enrolments", enrolments, p.bpjs, 3)
    references = [reference_of(importer.ledger, nik) for nik in NIKS[:3]]
    assert importer.stored(result["first_index"], result["count"]) == [
        ("worker.enrolled", payloads.enrolment(PROGRAMME, reference, category, "Kelapa Gading Barat", "2025-01-15",
                                               jht=jht == "ya"))
        for reference, (category, jht) in zip(references, people)]
    assert importer.ledger.personal_data(f"worker:{references[1]}") == {
        "nik": NIKS[1], "name": "Pekerja 1", "phone": "0812 0000 0001"}

    premiums = fill(importer, "premiums", file_format, {
        "programme": PROGRAMME, "batch": "P-1", "disbursement": "D-1", "month": "2025-03", "paid_on": "2025-03-05"}, [
        {"worker": NIKS[0], "month": "2025-03", "jkk_rupiah": "10000", "jkm_rupiah": "6800", "jht_rupiah": "0"},
        {"worker": NIKS[1], "jkk_rupiah": "10.000", "jkm_rupiah": "6.800", "jht_rupiah": "20.000",
         "amount_rupiah": "36.800"},
        {"worker": references[2], "jkk_rupiah": "10000", "jkm_rupiah": "6800", "amount_rupiah": "16800"}])
    result = dry_run_then_submit(importer, "premiums", premiums, p.bpjs, 3)
    workers = [{"worker": reference, "income_rupiah": 1_000_000, "category": category, "jht": jht == "ya"}
               for reference, (category, jht) in zip(references, people)]
    assert importer.stored(result["first_index"], result["count"]) == payloads.premium_batch(
        PROGRAMME, "P-1", "D-1", "2025-03", workers, paid_on="2025-03-05")
    assert verify_database(importer.ledger).ok


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_dry_run_reports_totals_and_the_command_line_can_give_the_batch(importer):
    p = importer.programme
    p.receive("pt-maju-bersama", "R-1", 1_000_000)
    p.disburse("D-1", [("R-1", "pt-maju-bersama", 100_000)])
    enrolled = [p.enrol(nik) for nik in NIKS[:2]]
    path = importer.write("maret.csv", [], ["worker", "jkk_rupiah", "jkm_rupiah"],
                          [[reference, 10000, 6800] for reference in enrolled])
    options = ("--programme", PROGRAMME, "--batch", "P-1", "--disbursement", "D-1", "--month", "2025-03",
               "--paid-on", "2025-03-03")
    dry = importer.dry_run("premiums", path, *options)
    assert dry.code == 0 and dry.json()["totals"] == {"lines": 2, "amount_rupiah": 33_600, "jkk_rupiah": 20_000,
                                                      "jkm_rupiah": 13_600, "jht_rupiah": 0}
    text = importer.run("import", "premiums", path, *options)
    assert "2 rows: 2 accepted, 0 refused" in text.stdout and "amount_rupiah 33,600" in text.stdout
    assert "nothing was stored" in text.stderr
    missing = importer.dry_run("premiums", path, *options[:-2])
    assert missing.code == 2 and [(r["column"], r["row"]) for r in missing.json()["refusals"]] == [("paid_on", None)]
    assert importer.submit("premiums", path, p.bpjs, *options).code == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["premiums.xlsx", "receipts.csv", "disbursements.xlsx", "enrolments.csv"])
def test_a_template_is_written_once_and_names_its_columns(importer, name):
    path = importer.folder / name
    assert importer.run("import", "--template", path).code == 0
    kind = name.split(".")[0]
    dry = importer.dry_run(kind, path)
    refusals = dry.json()["refusals"]
    # The examples are well formed; only a premium line's NIK is unknown to this ledger.
    assert all(r["column"] == "worker" and "no worker with this NIK" in r["reason"] for r in refusals), refusals
    assert (dry.code == 0) == (kind != "premiums")
    rewritten = importer.run("import", "--template", path)
    assert rewritten.code == 2 and "exists already" in rewritten.stderr
    wrong = importer.run("import", "--template", importer.folder / "gaji.xlsx")
    assert wrong.code == 2 and "premiums.xlsx" in wrong.stderr
