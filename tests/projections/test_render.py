"""CSV and PDF renderings of the signed statements and award lists (projections/render.py)."""

from __future__ import annotations

import copy
import csv
import io
import json
import re

import pytest
from pypdf import PdfReader

from ledger import note, payloads, signing
from ledger.documents import verify_document
from tests.niks import nik
from projections import render, render_page  # render_page reads the font folder
from projections.reports import Reports
from projections.runner import ProjectionRunner

ROOT = "GsTsq0pYk3n2n7S0r2j5b8VZyqk1cWl0mYc3s0xk9+E="
SIGNATURE = "q0pYk3n2n7S0r2j5b8VZyqk1cWl0mYc3s0xk9+Eabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZab=="
VERIFIER = "amanah.jakarta-utara.example/ledger+1f8bae33+AZb3kq0pYk3n2n7S0r2j5b8VZyqk1cWl0mYc3s0xk9+E"
HEADLINE_RUPIAH = ("pledged_rupiah", "received_rupiah", "pledge_outstanding_rupiah", "amil_rupiah", "disbursed_rupiah",
                   "unspent_held_rupiah", "premiums_funded_rupiah")
HEADLINE_COUNTS = ("worker_months", "distinct_workers_reached_overlapping")
NASTY_NAMES = [
    "PT Ω Omega", "PT 😀 Senyum 👨‍👩‍👧 Keluarga", '=HYPERLINK("http://evil.example","klik")', "+62 Telepon", "-1+1", "@SUM(A1)",
    "PT Ünïcödé Ñ — “Kutip” ‘tunggal’…", "شركة الخير", "株式会社テスト", "PT A\u0301ksen", "PT\nBaris\tBaru\r",
    "", "PT " + "Sangat Panjang Sekali " * 20, "\u202eRTL override", "PT \x00 Nul \x07", "PT \ud800 surrogate",
    "PT \u200b\ufeff\ufe0f zero width",
]


def signature() -> dict:
    return {"algorithm": "ed25519", "canonicalisation": "RFC 8785", "context": "amanah/document/v1",
            "verifier_key": VERIFIER, "value": SIGNATURE}


def checkpoint() -> dict:
    return {"tree_size": 35, "root": ROOT,
            "note": f"amanah.jakarta-utara.example/ledger\n35\n{ROOT}\n\n\u2014 amanah.jakarta-utara.example/ledger "
                    f"H4uK{SIGNATURE}\n"}


def example_statement(legal_name: str = "PT Maju Bersama", months: int = 12) -> dict:
    first = 1 if months == 12 else 7
    by_month = [{"month": f"2025-{month:02d}", "received_rupiah": 60_000_000 if month in (2, 8) else 0,
                 "premiums_funded_rupiah": 112_000 if month in (3, 9) else 0,
                 "worker_months": 10 if month in (3, 9) else 0} for month in range(first, first + months)]
    return {"kind": "amanah/impact-statement", "version": 1, "ledger": "amanah.jakarta-utara.example/ledger",
            "checkpoint": checkpoint(), "generated_at": "2026-11-24T03:54:44Z",
            "company": {"organisation": "pt-maju-bersama", "legal_name": legal_name},
            "period": "2025" if months == 12 else "2025-H2", "from": "2025-01-01" if months == 12 else "2025-07-01",
            "to": "2025-12-31", "pledged_rupiah": 100_000_000, "received_rupiah": 60_000_000,
            "pledge_outstanding_rupiah": 40_000_000, "amil_rupiah": 0, "disbursed_rupiah": 1_000_000,
            "unspent_held_rupiah": 59_000_000, "premiums_funded_rupiah": 112_000, "premiums_refunded_rupiah": 16_800,
            "pledged_current_rupiah": 60_000_000, "pledge_fulfilment_percent": 60,
            "pledge_changes": [{"pledge": "pl-1", "kind": "amended", "on": "2025-12-15", "previous_rupiah": 100_000_000,
                                "amount_rupiah": 60_000_000, "reason": "budget revised by the board", "entry": 33}],
            "worker_months": 10, "full_year_equivalent_workers": "0.83",
            "programme_full_year_equivalent_workers": "988.33", "distinct_workers_reached_overlapping": 7,
            "by_category": {"dasawisma": {"worker_months": 3, "premiums_funded_rupiah": 50_400},
                            "ojek_online": {"worker_months": 7, "premiums_funded_rupiah": 61_600}},
            "by_kelurahan": {"Kelapa Gading Barat": {"worker_months": 6, "premiums_funded_rupiah": 67_200},
                             "Kelapa Gading Timur": {"worker_months": 4, "premiums_funded_rupiah": 44_800}},
            "by_month": by_month,
            "claims_paid": {"by_benefit": {
                "jkm": {"paid_to": "heirs", "count": 2, "total_rupiah": 52_000_000,
                        "amounts_rupiah": [42_000_000, 10_000_000]},
                "jkk": {"paid_to": "worker (heirs when fatal)", "count": 1, "total_rupiah": 3_500_000, "fatal_count": 0,
                        "amounts_rupiah": [3_500_000]}}, "entries": [34, 40, 44]},
            "entries": [[7, 8], [10, 10], [21, 31]], "signature": signature()}


def company_row(company: str, legal_name: str, received: int, workers: int, **extra) -> dict:
    return {"company": company, "legal_name": legal_name, "received_rupiah": received, "pledged_rupiah": received,
            "pledge_fulfilment_percent": 100, "award_pledge_basis_rupiah": received, "worker_months": workers * 3,
            "full_year_equivalent_workers": f"{workers // 4}.{(workers * 25) % 100:02d}",
            "premiums_funded_rupiah": workers * 50_400, **extra}


def example_awards(awarded_count: int = 3) -> dict:
    awarded = [company_row(f"pt-perusahaan-{rank:02d}", f"PT Perusahaan {rank:02d}", 900_000_000 - rank * 10_000_000,
                           500 - rank, rank=rank, tier="Utama" if rank < 3 else "Madya")
               for rank in range(1, awarded_count + 1)]
    not_awarded = [company_row("pt-maju-bersama", "PT Maju Bersama", 60_000_000, 10, pledged_rupiah=100_000_000,
                               pledge_fulfilment_percent=60,
                               reasons=["pledge not fulfilled: Rp40,000,000 outstanding",
                                        "Rp1,000,000 of receipt rc-1 from pt-maju-bersama undisbursed more than 90 days"])]
    return {"kind": "amanah/award-list", "version": 1, "ledger": "amanah.jakarta-utara.example/ledger",
            "checkpoint": checkpoint(), "generated_at": "2026-11-24T03:54:44Z", "year": 2025,
            "criteria": {"rank_by": "received_rupiah", "tiers": [
                {"name": "Utama", "min_received_rupiah": 500_000_000, "min_worker_months": 0},
                {"name": "Madya", "min_received_rupiah": 100_000_000, "min_worker_months": 0},
                {"name": "Pratama", "min_received_rupiah": 1, "min_worker_months": 0}],
                "exclude_unfulfilled_pledges": True, "exclude_open_reconciliation": True,
                "min_pledge_fulfilment_percent": 100},
            "awarded": awarded, "not_awarded": not_awarded, "companies_contributing": awarded_count + 1,
            "invited_not_contributing": [{"company": "pt-absen", "legal_name": "PT Absen Selalu",
                                          "invited_on": "2025-01-20"}],
            "companies_invited": awarded_count + 2,
            "signature": signature()}


def read_pdf(data: bytes) -> tuple[PdfReader, str]:
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """The text without whitespace, so values wrapped across lines can be found."""
    return re.sub(r"\s+", "", text)


def parse_statement_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["section", "key", "value"]
    assert all(len(row) == 3 for row in rows)
    return rows[1:]


def lookup(rows: list[list[str]], section: str, key: str) -> str:
    found = [value for row_section, row_key, value in rows if (row_section, row_key) == (section, key)]
    assert len(found) == 1, (section, key, found)
    return found[0]


def assert_statement_csv_matches(text: str, statement: dict) -> None:
    rows = parse_statement_csv(text)
    for key in (*HEADLINE_RUPIAH, *HEADLINE_COUNTS):
        assert int(lookup(rows, "figures", key)) == statement[key]
    for dimension in ("by_category", "by_kelurahan"):
        for field in ("worker_months", "premiums_funded_rupiah"):
            got = {key: int(value) for section, key, value in rows if section == f"{dimension}.{field}"}
            assert got == {name: values[field] for name, values in statement[dimension].items()}
    for field in ("received_rupiah", "premiums_funded_rupiah", "worker_months"):
        got = {key: int(value) for section, key, value in rows if section == f"by_month.{field}"}
        assert got == {month["month"]: month[field] for month in statement["by_month"]}
    assert lookup(rows, "figures", "full_year_equivalent_workers") == statement["full_year_equivalent_workers"]
    for benefit, values in statement["claims_paid"]["by_benefit"].items():  # JKM and JKK apart, never summed
        assert int(lookup(rows, "claims_paid.count", benefit)) == values["count"]
        assert int(lookup(rows, "claims_paid.total_rupiah", benefit)) == values["total_rupiah"]
        assert json.loads(lookup(rows, "claims_paid.amounts_rupiah", benefit)) == values["amounts_rupiah"]
    assert not [row for row in rows if row[0] == "claims_paid" and row[1] in ("count", "total_rupiah")]
    assert json.loads(lookup(rows, "claims_paid", "entries")) == statement["claims_paid"]["entries"]
    assert json.loads(lookup(rows, "entries", "ranges")) == statement["entries"]
    assert int(lookup(rows, "checkpoint", "tree_size")) == statement["checkpoint"]["tree_size"]
    assert lookup(rows, "checkpoint", "root").removeprefix("'") == statement["checkpoint"]["root"]
    assert lookup(rows, "checkpoint", "note") == statement["checkpoint"]["note"]
    assert lookup(rows, "signature", "verifier_key") == statement["signature"]["verifier_key"]
    assert lookup(rows, "signature", "value").removeprefix("'") == statement["signature"]["value"]
    assert lookup(rows, "company", "organisation") == statement["company"]["organisation"]
    assert lookup(rows, "period", "period") == statement["period"]


def assert_statement_pdf_matches(data: bytes, statement: dict, max_pages: int = 4) -> str:
    reader, text = read_pdf(data)
    assert 1 <= len(reader.pages) <= max_pages
    assert statement["company"]["legal_name"] in text
    assert statement["company"]["organisation"] in text
    assert f"Periode / Period {statement['period']} ({statement['from']} – {statement['to']})" in text
    for key in HEADLINE_RUPIAH:
        assert render.money(statement[key]) in text, key
    for key in HEADLINE_COUNTS:
        assert re.search(rf"\b{re.escape(render.count(statement[key]))}\b", text), key
    for values in statement["claims_paid"]["by_benefit"].values():
        for amount in values["amounts_rupiah"]:  # each payment shown as such (Rp42.000.000)
            assert render.money(amount) in text
    assert "JKM dibayar ke ahli waris / JKM paid to heirs" in text
    assert "JKK dibayar ke pekerja / JKK paid to the worker" in text
    assert render.decimal(statement["full_year_equivalent_workers"]) in text
    assert "Full-year-equivalent workers" in text and "Distinct workers reached (overlapping)" in text
    for change in statement.get("pledge_changes") or []:
        assert change["reason"] in text and change["on"] in text
    assert "Workers covered" not in text
    assert f"Ukuran pohon / Tree size {render.count(statement['checkpoint']['tree_size'])}" in text
    assert statement["checkpoint"]["root"] in text
    assert statement["signature"]["value"] in squash(text)
    assert statement["signature"]["verifier_key"] in squash(text)
    assert "Laporan Dampak / Impact Statement" in text
    assert "/api/v1/checkpoint" in text and "amanah verify" in text
    assert f"Halaman / Page {len(reader.pages)} / {len(reader.pages)}" in text
    attached = json.loads(reader.attachments["impact-statement.json"][0])
    assert attached == statement
    return text


# --- rupiah -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "language", "expected"), [
    (42_000_000, "id", "Rp42.000.000"), (42_000_000, "en", "Rp42,000,000"), (0, "id", "Rp0"), (0, "en", "Rp0"),
    (999, "id", "Rp999"), (1_000, "id", "Rp1.000"), (-1_000, "id", "-Rp1.000"), (-1_000, "en", "-Rp1,000"),
    (16_800, "en", "Rp16,800"), (1_234_567_890_123, "id", "Rp1.234.567.890.123"),
])
def test_rupiah(amount, language, expected):
    assert render.rupiah(amount, language) == expected


def test_rupiah_refuses_floats_and_unknown_languages():
    with pytest.raises(TypeError):
        render.rupiah(1.5, "id")
    with pytest.raises(TypeError):
        render.rupiah(True, "id")
    with pytest.raises(ValueError):
        render.rupiah(1_000, "fr")


def test_printable_replaces_what_a_font_cannot_print():
    latin1 = render._LATIN1_PRINTABLE.__contains__
    assert render.printable("— PT Ω “x” é", latin1) == "- PT ? \"x\" é"
    assert render.printable("PT A\u0301ksen", latin1) == "PT Aksen"  # the combining accent is dropped
    assert render.printable("a\u200db\ufe0fc\ud800", latin1) == "abc"
    assert render.printable("a\nb\tc", latin1) == "a\nb c"
    assert render.printable("a\nb", latin1, keep_newlines=False) == "a b"
    assert render.printable("ﬁ", latin1) == "fi"  # NFKD


# --- CSV --------------------------------------------------------------------------------------

def test_statement_csv_parses_back_to_the_json_figures():
    statement = example_statement()
    text = render.statement_csv(statement)
    assert text.endswith("\r\n") and "\r\n" in text  # RFC 4180 line ends
    assert_statement_csv_matches(text, statement)
    rows = parse_statement_csv(text)
    # a spreadsheet sum of a breakdown section gives the headline figure
    assert sum(int(value) for section, _, value in rows if section == "by_category.worker_months") == 10
    assert lookup(rows, "company", "legal_name") == "PT Maju Bersama"
    assert lookup(rows, "document", "kind") == "amanah/impact-statement"


def test_statement_csv_guards_against_formula_injection():
    statement = example_statement('=HYPERLINK("http://evil.example")')
    statement["by_kelurahan"] = {"@evil": {"worker_months": 1, "premiums_funded_rupiah": 16_800}}
    statement["checkpoint"]["root"] = "+" + ROOT[1:]
    rows = parse_statement_csv(render.statement_csv(statement))
    assert lookup(rows, "company", "legal_name") == '\'=HYPERLINK("http://evil.example")'
    assert lookup(rows, "by_kelurahan.worker_months", "'@evil") == "1"
    assert lookup(rows, "checkpoint", "root") == "'+" + ROOT[1:]
    # numbers stay numbers
    assert lookup(rows, "figures", "received_rupiah") == "60000000"


def test_awards_csv_has_one_row_per_company():
    award_list = example_awards(3)
    rows = list(csv.reader(io.StringIO(render.awards_csv(award_list), newline="")))
    header, body = rows[0], rows[1:]
    assert header == list(render.AWARD_COLUMNS)
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert [record["company"] for record in records] == [
        "pt-perusahaan-01", "pt-perusahaan-02", "pt-perusahaan-03", "pt-maju-bersama", "pt-absen"]
    assert [record["awarded"] for record in records] == ["yes", "yes", "yes", "no", "no"]
    assert [record["status"] for record in records] == ["awarded"] * 3 + [
        "contributed, not awarded", "invited, did not contribute"]
    assert [record["rank"] for record in records] == ["1", "2", "3", "", ""]
    assert records[4]["invited_on"] == "2025-01-20" and records[4]["received_rupiah"] == ""
    for record, entry in zip(records, award_list["awarded"] + award_list["not_awarded"], strict=False):
        assert record["year"] == "2025"
        assert record["legal_name"] == entry["legal_name"]
        for field in ("received_rupiah", "pledged_rupiah", "pledge_fulfilment_percent", "worker_months",
                      "premiums_funded_rupiah"):
            assert int(record[field]) == entry[field]
        assert record["full_year_equivalent_workers"] == entry["full_year_equivalent_workers"]
    assert records[0]["tier"] == "Utama" and records[0]["reasons"] == ""
    assert records[3]["reasons"] == "; ".join(award_list["not_awarded"][0]["reasons"])


def test_awards_csv_guards_against_formula_injection():
    award_list = example_awards(1)
    award_list["awarded"][0]["legal_name"] = "=cmd|' /C calc'!A0"
    award_list["not_awarded"][0]["legal_name"] = "-2+3"
    award_list["not_awarded"][0]["reasons"] = ["=1+1", "ok"]
    rows = list(csv.reader(io.StringIO(render.awards_csv(award_list), newline="")))
    name = rows[0].index("legal_name")
    assert rows[1][name] == "'=cmd|' /C calc'!A0"
    assert rows[2][name] == "'-2+3"
    assert rows[2][-1] == "'=1+1; ok"


# --- PDF --------------------------------------------------------------------------------------

def test_statement_pdf_shows_the_statement():
    statement = example_statement()
    text = assert_statement_pdf_matches(render.statement_pdf(statement), statement, max_pages=4)
    assert "Dana diterima Baznas / Money received by Baznas Rp60.000.000" in text
    assert "Ojek online / Online motorcycle-taxi drivers" in text and "Kelapa Gading Timur" in text
    assert "JKM, jaminan kematian / death benefit" in text
    assert "7–8, 10, 21–31" in text and "34, 40, 44" in text
    assert "heirs 2 Rp42.000.000 + Rp10.000.000" in text  # each JKM payment, to the heirs
    assert "\u2014 amanah.jakarta-utara.example/ledger" in text  # the signed note keeps its em dash
    for label in ("Jan", "Mei", "Agu", "Des"):
        assert label in text


def test_statement_pdf_headline_tiles_show_every_amount_whole():
    """A national programme's company gives billions: the headline tiles shrink the figure, they
    never cut it (they printed "Rp209.000.0..." before)."""
    statement = example_statement()
    statement.update(received_rupiah=2_430_413_600_000, premiums_funded_rupiah=1_159_000_000_000,
                     worker_months=98_765_432, full_year_equivalent_workers="8230452.67")
    _, text = read_pdf(render.statement_pdf(statement))
    first_page = text.split("Angka utama")[0]
    for shown in ("Rp2.430.413.600.000", "Rp1.159.000.000.000", "98.765.432", "8.230.452,67"):
        assert shown in first_page, shown
    assert "..." not in first_page and "…" not in first_page


def test_statement_pdf_for_a_half_year():
    statement = example_statement(months=6)
    text = assert_statement_pdf_matches(render.statement_pdf(statement), statement)
    assert "2025-07" in text and "2025-12" in text and "2025-01" not in text


def test_statement_pdf_with_nothing_recorded():
    statement = example_statement()
    for key in (*HEADLINE_RUPIAH, *HEADLINE_COUNTS):
        statement[key] = 0
    statement.update(by_category={}, by_kelurahan={}, by_month=[], entries=[],
                     claims_paid={"count": 0, "total_rupiah": 0, "by_benefit": {}, "entries": []})
    text = assert_statement_pdf_matches(render.statement_pdf(statement), statement)
    assert "Tidak ada. / None." in text


def test_statement_pdf_is_deterministic():
    statement = example_statement()
    assert render.statement_pdf(statement) == render.statement_pdf(copy.deepcopy(statement))


def test_awards_pdf_lists_awarded_companies_in_rank_order():
    award_list = example_awards(3)
    reader, text = read_pdf(render.awards_pdf(award_list))
    assert len(reader.pages) <= 3
    assert "Daftar Penerima Piagam Penghargaan / Award List 2025" in text
    positions = [text.index(entry["legal_name"]) for entry in award_list["awarded"]]
    assert positions == sorted(positions)
    for entry in award_list["awarded"]:
        assert render.money(entry["received_rupiah"]) in text
    separate = award_list["not_awarded"][0]
    assert text.index(separate["legal_name"]) > positions[-1]
    for reason in separate["reasons"]:
        assert reason in " ".join(text.split())  # printed as signed (wrapped lines joined)
    assert award_list["checkpoint"]["root"] in text and SIGNATURE in squash(text)
    assert json.loads(reader.attachments["award-list.json"][0]) == award_list


def test_awards_pdf_with_many_companies_spans_pages_in_order():
    award_list = example_awards(60)
    reader, text = read_pdf(render.awards_pdf(award_list))
    assert 2 <= len(reader.pages) <= 6
    positions = [text.index(entry["legal_name"]) for entry in award_list["awarded"]]
    assert positions == sorted(positions)
    assert text.count("Peringkat\nRank") >= 2  # the table heading repeats on the next page


def test_awards_pdf_with_nobody_awarded():
    award_list = example_awards(0)
    award_list["awarded"] = []
    _, text = read_pdf(render.awards_pdf(award_list))
    assert "Tidak ada. / None." in text and "PT Maju Bersama" in text


@pytest.mark.parametrize("unicode_fonts", [True, False], ids=["dejavu", "core-fonts"])
@pytest.mark.parametrize("name", NASTY_NAMES, ids=range(len(NASTY_NAMES)))
def test_nasty_names_do_not_crash(name, unicode_fonts, monkeypatch, tmp_path):
    if not unicode_fonts:
        monkeypatch.setattr(render_page, "FONT_DIR", tmp_path / "no-fonts")
    statement = example_statement(name)
    statement["by_kelurahan"] = {name: {"worker_months": 1, "premiums_funded_rupiah": 16_800}}
    _, text = read_pdf(render.statement_pdf(statement))
    assert render.money(60_000_000) in text
    award_list = example_awards(2)
    award_list["awarded"][0]["legal_name"] = name
    award_list["not_awarded"][0]["legal_name"] = name
    award_list["not_awarded"][0]["reasons"] = [f"reason about {name}"]
    _, text = read_pdf(render.awards_pdf(award_list))
    assert "PT Perusahaan 02" in text
    render.statement_csv(statement)
    render.awards_csv(award_list)


def test_non_latin1_names_print_with_the_shipped_font_and_degrade_without_it(monkeypatch, tmp_path):
    statement = example_statement("PT Ω Ünïcödé 株 😀 👨")  # DejaVu has U+1F600 but no CJK or U+1F468
    _, text = read_pdf(render.statement_pdf(statement))
    assert "PT Ω Ünïcödé ? 😀 ?" in text
    monkeypatch.setattr(render_page, "FONT_DIR", tmp_path / "no-fonts")
    _, text = read_pdf(render.statement_pdf(statement))
    assert "PT ? Ünïcödé ? ? ?" in text
    assert "- amanah.jakarta-utara.example/ledger" in text  # the em dash, transliterated


# --- the real pipeline --------------------------------------------------------------------------

def test_documents_from_the_real_pipeline(programme):
    p = programme
    p.pledge("pt-maju-bersama", "pl-1", 100_000_000)
    p.receive("pt-maju-bersama", "rc-1", 60_000_000, "pl-1")
    p.receive("pt-sinar-laut", "rc-2", 40_000_000)
    p.disburse("ds-1", [("rc-1", "pt-maju-bersama", 168_000)])
    p.disburse("ds-2", [("rc-2", "pt-sinar-laut", 40_000_000)])  # all of it, so no reconciliation item
    references = [p.enrol(nik(i), category="ojek_online" if i % 3 else "dasawisma") for i in range(10)]
    p.pay("b-2025-03", "ds-1", "2025-03", references)
    worker = references[1]
    p.batch(p.bpjs, [("claim.filed", payloads.claim("sertakan-jakut-2025", "jkm-1", worker, "jkm",
                                                    incident_on="2025-03-10", filed_on="2025-03-12"))],
            personal={"0": {"name": "Ahli waris", "relationship": "spouse"}})
    p.submit(p.bpjs, "claim.approved", payloads.approval("sertakan-jakut-2025", "jkm-1", worker, "jkm", 10_000_000,
                                                         "2025-03-20", "2025-03-20"))
    p.submit(p.bpjs, "claim.paid", payloads.claim("sertakan-jakut-2025", "jkm-1", worker, "jkm",
                                                  amount_rupiah=10_000_000, paid_on="2025-03-24"))
    runner = ProjectionRunner(p.ledger)
    try:
        check_pipeline_documents(p, Reports(p.ledger, runner))
    finally:
        runner.engine.dispose()  # the views' connection pool is ours to close


def check_pipeline_documents(p, reports: Reports) -> None:
    expected_key = note.verifier_key(p.ledger.origin, signing.public_key_bytes(p.world.checkpoint_key))

    statement = reports.statement("pt-maju-bersama", "2025")
    assert statement["received_rupiah"] == 60_000_000 and statement["worker_months"] == 10
    assert statement["claims_paid"]["by_benefit"]["jkm"]["amounts_rupiah"] == [10_000_000]
    assert_statement_csv_matches(render.statement_csv(statement), statement)
    data = render.statement_pdf(statement)
    text = assert_statement_pdf_matches(data, statement)
    assert "Dasawisma / Neighbourhood women's groups" in text
    attached = json.loads(PdfReader(io.BytesIO(data)).attachments["impact-statement.json"][0])
    verify_document(attached, expected_key)  # the PDF carries a verifiable copy of what it shows

    award_list = reports.awards(2025)
    names = [entry["legal_name"] for entry in award_list["awarded"]]
    assert names and award_list["not_awarded"]
    reader, text = read_pdf(render.awards_pdf(award_list))
    positions = [text.index(name) for name in names]
    assert positions == sorted(positions)
    for entry in award_list["not_awarded"]:
        assert entry["legal_name"] in text
    assert award_list["checkpoint"]["root"] in text
    verify_document(json.loads(reader.attachments["award-list.json"][0]), expected_key)
    rows = list(csv.DictReader(io.StringIO(render.awards_csv(award_list), newline="")))
    assert [row["legal_name"] for row in rows if row["awarded"] == "yes"] == names
