"""Files a person might really hand in, each refused with the row, column and reason, and with
--submit too nothing is stored: wrong columns, a bad NIK in row 37, a duplicate row, a formula,
a CSV in another encoding, a NIK Excel turned into a number, a row the ledger's rules refuse."""

from __future__ import annotations

import pytest

from api.spreadsheet_writing import write_csv
from tests.importing.conftest import NIKS, PROGRAMME

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ENROLMENT_COLUMNS = ["nik", "name", "phone", "category", "kelurahan", "income_rupiah", "jht", "enrolled_on"]
RECEIPT_COLUMNS = ["receipt", "company", "amount_rupiah", "received_on"]


def enrolment_row(nik: str, position: int) -> list:
    return [nik, f"Pekerja {position}", "0812 0000 0000", "ojek_online", "Kelapa Gading Barat", "1000000", "tidak",
            "2025-01-15"]


def refused(importer, kind, path, signer, *options) -> list[tuple]:
    """Refused as a dry run and as a submission, nothing stored: (row, column, reason) of each."""
    before = importer.snapshot()
    dry = importer.dry_run(kind, path, *options)
    submitted = importer.submit(kind, path, signer, *options)
    assert dry.code == 2 and submitted.code == 2, (dry, submitted)
    assert "nothing was stored" in submitted.stderr
    assert importer.snapshot() == before, "a refused file stored something"
    assert dry.json()["refusals"] == submitted.json()["refusals"]
    return [(r["row"], r["column"], r["reason"]) for r in dry.json()["refusals"]]


def test_wrong_and_missing_columns_are_named_at_the_header_row(importer):
    path = importer.write("premi.xlsx", [("programme", PROGRAMME), ("batch", "P-1"), ("disbursement", "D-1"),
                                         ("month", "2025-03"), ("paid_on", "2025-03-05")],
                          ["worker", "jkk_rupiah", "iuran_jkm", "catatan"], [["a" * 64, "10000", "6800", "lunas"]])
    refusals = refused(importer, "premiums", path, importer.programme.bpjs)
    header = 7
    assert {(row, column) for row, column, _ in refusals} == {
        (header, "iuran_jkm"), (header, "catatan"), (header, "jkm_rupiah")}
    assert all("is not a column of this file" in reason for _, column, reason in refusals if column != "jkm_rupiah")
    assert (header, "jkm_rupiah", "the column is missing") in refusals


def test_a_bad_nik_in_row_37_is_refused_at_row_37(importer):
    niks = [f"3171{district:02d}150185{district:04d}" for district in range(1, 41)]
    rows = [enrolment_row(nik, position) for position, nik in enumerate(niks)]
    rows[33][0] = "317101150185001"  # row 37 of the sheet (setting, blank, header, then rows): a digit lost
    rows[34][0] = "9971011501850001"  # row 38: no province has the code 99 (the ledger's own NIK check)
    path = importer.write("pendaftaran.csv", [("programme", PROGRAMME)], ENROLMENT_COLUMNS, rows)
    refusals = refused(importer, "enrolments", path, importer.programme.bpjs)
    assert refusals == [(37, "nik", "'317101150185001' is not a NIK (16 digits)"),
                        (38, "nik", "starts with 99, which is not an Indonesian province code")]


def test_a_duplicate_row_is_refused_naming_the_first(importer):
    row = ["R-1", "pt-maju-bersama", "1000000", "2025-02-03"]
    path = importer.write("kuitansi.csv", [("programme", PROGRAMME)], RECEIPT_COLUMNS,
                          [row, ["R-2", "pt-sinar-laut", "500000", "2025-02-04"], row])
    assert refused(importer, "receipts", path, importer.programme.baznas) == [
        (6, "receipt", "receipt R-1 is in row 4 already (a duplicate row)")]
    people = importer.write("daftar.xlsx", [("programme", PROGRAMME)], ENROLMENT_COLUMNS,
                            [enrolment_row(NIKS[0], 0), enrolment_row(NIKS[1], 1), enrolment_row(NIKS[0], 2)])
    assert refused(importer, "enrolments", people, importer.programme.bpjs) == [
        (6, "nik", "the same NIK is in row 4 already (a duplicate row)")]


def test_a_formula_is_refused_naming_its_cell(importer):
    path = importer.write("kuitansi.xlsx", [("programme", PROGRAMME)], RECEIPT_COLUMNS,
                          [["R-1", "pt-maju-bersama", "=1000000*2", "2025-02-03"]])
    [(row, column, reason)] = refused(importer, "receipts", path, importer.programme.baznas)
    assert (row, column) == (4, "amount_rupiah")
    assert reason.startswith("cell C4 holds a formula (=1000000*2)")
    csv = importer.write("kuitansi.csv", [("programme", PROGRAMME)], RECEIPT_COLUMNS,
                         [["R-1", '=HYPERLINK("http://example.com")', "1000000", "2025-02-03"]])
    [(row, column, reason)] = refused(importer, "receipts", csv, importer.programme.baznas)
    assert (row, column) == (4, "company") and reason.startswith('the cell holds a formula (=HYPERLINK(')


@pytest.mark.parametrize("encoding, named", [("cp1252", "Windows-1252"), ("utf-16", "UTF-16")])
def test_a_csv_in_another_encoding_is_refused_and_says_which(importer, encoding, named):
    text = write_csv([("programme", PROGRAMME)], RECEIPT_COLUMNS,
                     [["R-1", "pt-maju-bersama", "1000000", "2025-02-03"]]).decode("utf-8-sig")
    path = importer.folder / "kuitansi.csv"
    path.write_bytes(text.replace("2025-02-03", "2025-02-03,Jos\u00e9").encode(encoding))
    before = importer.snapshot()
    for attempt in (importer.dry_run("receipts", path), importer.submit("receipts", path, importer.programme.baznas)):
        assert attempt.code == 2 and named in attempt.stderr and "CSV UTF-8" in attempt.stderr, attempt
    assert importer.snapshot() == before


def test_utf8_with_or_without_a_byte_order_mark_and_semicolons_are_read(importer):
    text = "programme;" + PROGRAMME + "\r\n\r\nreceipt;company;amount_rupiah;received_on\r\n" \
           "R-1;pt-maju-bersama;Rp1.000.000;2025-02-03\r\n"
    for name, data in (("bom.csv", b"\xef\xbb\xbf" + text.encode()), ("plain.csv", text.encode())):
        path = importer.folder / name
        path.write_bytes(data)
        dry = importer.dry_run("receipts", path)
        assert dry.code == 0 and dry.json()["totals"]["amount_rupiah"] == 1_000_000, dry


def test_a_nik_typed_as_a_number_is_refused_naming_the_cell(importer):
    path = importer.folder / "daftar.xlsx"
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["programme", PROGRAMME])
    sheet.append(ENROLMENT_COLUMNS)
    sheet.append([int(NIKS[0]), *enrolment_row(NIKS[0], 0)[1:]])
    workbook.save(path)
    [(row, column, reason)] = refused(importer, "enrolments", path, importer.programme.bpjs)
    assert (row, column) == (3, "nik") and "cell A3 holds the NIK as a number" in reason


def test_a_row_the_ledgers_rules_refuse_at_submit_is_named_and_nothing_is_stored(importer):
    path = importer.write("kuitansi.csv", [("programme", PROGRAMME)], RECEIPT_COLUMNS, [
        ["R-1", "pt-maju-bersama", "1000000", "2025-02-03"], ["R-2", "pt-belum-terdaftar", "500000", "2025-02-04"]])
    assert importer.dry_run("receipts", path).code == 0  # well formed: the dry run checks each payload alone
    before = importer.snapshot()
    submitted = importer.submit("receipts", path, importer.programme.baznas)
    assert submitted.code == 2 and importer.snapshot() == before
    refusal = submitted.json()["refused"]
    assert (refusal["row"], refusal["column"]) == (5, "company") and "pt-belum-terdaftar" in refusal["reason"]


def test_a_payload_the_event_type_refuses_is_named_in_the_dry_run(importer):
    path = importer.write("pendaftaran.csv", [("programme", PROGRAMME)], ENROLMENT_COLUMNS, [
        enrolment_row(NIKS[0], 0), [*enrolment_row(NIKS[1], 1)[:3], "tukang_parkir", *enrolment_row(NIKS[1], 1)[4:]],
        [*enrolment_row(NIKS[2], 2)[:7], "15/01/2025"]])
    assert refused(importer, "enrolments", path, importer.programme.bpjs) == [
        (5, "category", "must be one of ojek_online, dasawisma, jumantik, pedagang_asongan, other"),
        (6, "enrolled_on", "'15/01/2025' is not a date like 2025-03-31")]


def test_a_file_that_is_not_a_workbook_or_has_no_header_is_refused(importer):
    fake = importer.folder / "kuitansi.xlsx"
    fake.write_bytes(b"\xd0\xcf\x11\xe0 an old binary .xls")
    result = importer.dry_run("receipts", fake)
    assert result.code == 2 and "not an XLSX workbook" in result.stderr and ".xls must be saved" in result.stderr
    headless = importer.write("tanpa-judul.csv", [], ["R-1", "pt-maju-bersama", "1000000", "2025-02-03"], [])
    [(row, column, reason)] = refused(importer, "receipts", headless, importer.programme.baznas)
    assert (row, column) == (None, None) and reason.startswith("no header row")
    empty = importer.write("kosong.csv", [("programme", PROGRAMME)], RECEIPT_COLUMNS, [])
    assert refused(importer, "receipts", empty, importer.programme.baznas) == [
        (3, None, "there are no rows under the header row")]
    unsigned = importer.run("import", "receipts", headless, "--submit")
    assert unsigned.code == 2 and "--submit needs --key and --actor" in unsigned.stderr
