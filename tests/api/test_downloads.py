"""Auditors' downloads: balances, reconciliation items, a trace, the journal of a period and the
log's entries as XLSX and CSV, with the same figures as the JSON answers; text from the log
stays text in a workbook, never a formula."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from api.app import create_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def auditor(programme):
    programme.receive("pt-maju-bersama", "rc-1", 1_000_000)
    programme.receive("pt-sinar-laut", "rc-2", 500_000)
    programme.disburse("d-1", [("rc-1", "pt-maju-bersama", 100_000), ("rc-2", "pt-sinar-laut", 50_000)])
    workers = [programme.enrol(f"31710115018500{n:02d}") for n in range(1, 3)]
    programme.pay("b-1", "d-1", "2025-03", workers)
    programme.enrol("3171011501850099", kelurahan='=HYPERLINK("http://example.com","klik")')
    app = create_app({"SETTINGS": programme.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    programme.world.register("auditor-baznas", "auditor")
    client = app.test_client()
    token = services.tokens.issue("auditor-baznas")[0]

    def get(path: str, status: int = 200, **headers):
        response = client.get(path, headers={"Authorization": f"Bearer {token}", **headers})
        assert response.status_code == status, response.get_data(as_text=True)
        return response

    yield get
    services.close()


def sheet_rows(body: bytes, sheet: int = 0) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(body))
    return [tuple(cell for cell in row) for row in workbook.worksheets[sheet].iter_rows(values_only=True)]


def table(rows: list[tuple], first_column: str) -> list[tuple]:
    """The rows under the header row that starts with `first_column`."""
    start = next(position for position, row in enumerate(rows) if row and row[0] == first_column)
    return [row for row in rows[start + 1:] if any(value is not None for value in row)]


def test_balances_as_xlsx_and_csv_hold_the_json_figures(auditor):
    accounts = auditor("/api/v1/balances").get_json()["accounts"]
    workbook = auditor("/api/v1/balances?format=xlsx")
    assert workbook.mimetype == XLSX and 'filename="balances-now.xlsx"' in workbook.headers["Content-Disposition"]
    rows = sheet_rows(workbook.data)
    assert ("trial_balance_rupiah", 0) in [row[:2] for row in rows]
    assert {row[0]: row[1] for row in table(rows, "account")} == accounts
    assert all(row[2] - row[3] == row[1] for row in table(rows, "account"))
    text = auditor("/api/v1/balances", Accept="text/csv").get_data(as_text=True)
    assert text.startswith("\ufeff") and f'"coverage:premiums",{accounts["coverage:premiums"]}' in text


def test_reconciliation_and_the_journal_of_a_period(auditor):
    items = auditor("/api/v1/reconciliation?as_of=2025-12-31").get_json()["items"]
    rows = table(sheet_rows(auditor("/api/v1/reconciliation?as_of=2025-12-31&format=xlsx").data), "kind")
    assert [(row[0], row[2]) for row in rows] == [(item["kind"], item["detail"]) for item in items] and items
    # The fixture's envelopes all occurred on 2025-06-01: a posting is dated by its entry's occurred_at.
    journal = auditor("/api/v1/journal?from=2025-06-01&to=2025-06-30").get_json()
    assert journal["debits_rupiah"] == journal["credits_rupiah"] > 0
    assert {"donation.received", "disbursement.made", "premium.paid"} <= {line["type"] for line in journal["postings"]}
    rows = table(sheet_rows(auditor("/api/v1/journal?from=2025-06-01&to=2025-06-30&format=xlsx").data), "entry")
    assert len(rows) == len(journal["postings"])
    assert sum(row[5] for row in rows) == sum(row[6] for row in rows) == journal["debits_rupiah"]
    assert auditor("/api/v1/journal?from=2025-01-01&to=2025-05-31").get_json()["postings"] == []


def test_a_trace_and_the_entries_download_and_log_text_stays_text(auditor):
    entries = auditor("/api/v1/entries?start=0&limit=1000").get_json()["entries"]
    enrolment = next(item["index"] for item in entries if "HYPERLINK" in str(item["entry"]["envelope"]["payload"]))
    trace = sheet_rows(auditor(f"/api/v1/trace/{enrolment}?format=xlsx").data)
    assert ("type", "worker.enrolled") in trace
    workbook = load_workbook(io.BytesIO(auditor(f"/api/v1/trace/{enrolment}?format=xlsx").data))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
             if cell.value and "HYPERLINK" in str(cell.value)]
    assert cells and all(cell.data_type == "s" for cell in cells)
    receipt = next(item["index"] for item in entries if item["entry"]["envelope"]["type"] == "donation.received")
    sheets = load_workbook(io.BytesIO(auditor(f"/api/v1/trace/{receipt}?format=xlsx").data)).sheetnames
    assert any("worker_months" in name for name in sheets)
    text = auditor(f"/api/v1/trace/{enrolment}?format=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    rows = table(sheet_rows(auditor("/api/v1/entries?start=0&limit=1000&format=xlsx").data), "index")
    assert [row[0] for row in rows] == [item["index"] for item in entries]
    assert [row[2] for row in rows] == [item["entry"]["envelope"]["type"] for item in entries]


def test_a_bad_period_or_format_is_a_problem_naming_it(auditor):
    backwards = auditor("/api/v1/journal?from=2025-03-31&to=2025-03-01", 400).get_json()
    assert [error["field"] for error in backwards["errors"]] == ["to"]
    odd = auditor("/api/v1/balances?format=ods", 400).get_json()
    assert [error["field"] for error in odd["errors"]] == ["format"]
    missing = auditor("/api/v1/journal?from=2025-03-01", 400).get_json()
    assert [error["field"] for error in missing["errors"]] == ["to"]
