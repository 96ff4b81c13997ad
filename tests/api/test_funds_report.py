"""Baznas's PSAK 109 statement of changes in restricted funds: per company, opening balance,
received, amil share, distributed to BPJS, refunds after a death and closing balance, tied to
the balances and to the checkpoint; JSON, XLSX (in Bahasa Indonesia) and PDF."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from api.app import create_app
from ledger import payloads
from tests.domain.conftest import PROGRAMME, worker_state
from tests.niks import nik

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
MAJU, SINAR = "pt-maju-bersama", "pt-sinar-laut"


@pytest.fixture
def auditor(programme):
    """Two companies' money over the first half of 2025 and the second: receipts, an amil share,
    a disbursement, a reversed receipt, a death and a refunded advance premium."""
    p = programme
    p.submit(p.baznas, "donation.received", payloads.receipt(PROGRAMME, "rc-1", MAJU, 1_000_000, "2025-01-10"))
    p.submit(p.baznas, "donation.received", payloads.receipt(PROGRAMME, "rc-2", SINAR, 500_000, "2025-02-03"))
    p.amil("rc-2", SINAR, 25_000)
    p.disburse("d-1", [("rc-1", MAJU, 100_800), ("rc-2", SINAR, 50_400)])
    worker = p.enrol(nik(1), enrolled_on="2025-05-20")
    p.pay("b-jun", "d-1", "2025-06", [worker], paid_on="2025-06-02")
    p.pay("b-jul", "d-1", "2025-07", [worker], paid_on="2025-06-03")  # in advance
    p.submit(p.bpjs, "claim.filed", payloads.claim(PROGRAMME, "jkm-1", worker, "jkm", incident_on="2025-06-14",
                                                   filed_on="2025-06-15"))
    paid = worker_state(p.ledger, worker).paid["2025-07"]
    p.submit(p.bpjs, "premium.refunded", payloads.refund(PROGRAMME, worker, "2025-07", paid.index, 16_800,
                                                         "2025-07-20", [("rc-1", MAJU, 11_200), ("rc-2", SINAR, 5_600)]),
             "2025-07-20T08:00:00Z")
    dup = p.submit(p.baznas, "donation.received", payloads.receipt(PROGRAMME, "rc-3", MAJU, 70_000, "2025-08-01"),
                   "2025-08-01T08:00:00Z")
    p.submit(p.baznas, "entry.reversed", {"programme": PROGRAMME, "entry": dup["first_index"],
                                          "reverses": "donation.received", "reference": {"receipt": "rc-3"},
                                          "reason_code": "duplicate", "note": "keyed twice"}, "2025-08-02T08:00:00Z")
    app = create_app({"SETTINGS": p.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    p.world.register("auditor-baznas", "auditor")
    client = app.test_client()
    token = services.tokens.issue("auditor-baznas")[0]

    def get(path: str, status: int = 200):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, response.get_data(as_text=True)
        return response

    yield get
    services.close()


def test_each_company_fund_moves_from_opening_to_closing_as_the_postings_say(auditor):
    year = auditor("/api/v1/funds?period=2025").get_json()
    rows = {row["company"]: row for row in year["companies"]}
    assert rows[MAJU] | {} == rows[MAJU] and rows[MAJU]["received_rupiah"] == 1_000_000  # the duplicate is reversed
    assert (rows[SINAR]["received_rupiah"], rows[SINAR]["amil_rupiah"]) == (500_000, 25_000)
    assert (rows[MAJU]["distributed_rupiah"], rows[SINAR]["distributed_rupiah"]) == (100_800, 50_400)
    assert (rows[MAJU]["refunded_rupiah"], rows[SINAR]["refunded_rupiah"]) == (11_200, 5_600)
    assert rows[MAJU]["closing_rupiah"] == 1_000_000 - 100_800 + 11_200
    assert rows[SINAR]["closing_rupiah"] == 500_000 - 25_000 - 50_400 + 5_600
    balances = auditor("/api/v1/balances").get_json()["accounts"]
    for company, row in rows.items():
        assert row["closing_rupiah"] == balances[f"baznas:restricted:{company}"] == \
            year["closing_balances_rupiah"][company]
    assert year["total"]["closing_rupiah"] == sum(row["closing_rupiah"] for row in rows.values())
    assert year["checkpoint"]["tree_size"] > 0


def test_the_second_half_opens_with_the_first_half_closing(auditor):
    first = {row["company"]: row for row in auditor("/api/v1/funds?period=2025-H1").get_json()["companies"]}
    second = {row["company"]: row for row in auditor("/api/v1/funds?period=2025-H2").get_json()["companies"]}
    for company in (MAJU, SINAR):
        assert second[company]["opening_rupiah"] == first[company]["closing_rupiah"]
    assert second[MAJU]["refunded_rupiah"] == 11_200 and first[MAJU]["refunded_rupiah"] == 0
    assert second[MAJU]["received_rupiah"] == 0  # received and reversed in August


def test_the_workbook_is_in_bahasa_indonesia_and_holds_the_same_figures(auditor):
    rows = [row for row in load_workbook(io.BytesIO(auditor("/api/v1/funds?period=2025&format=xlsx").data))
            .worksheets[0].iter_rows(values_only=True)]
    header = next(position for position, row in enumerate(rows) if row and row[0] == "perusahaan")
    assert rows[header][2:] == ("saldo_awal_rupiah", "penerimaan_rupiah", "bagian_amil_rupiah",
                                "disalurkan_ke_bpjs_rupiah", "pengembalian_premi_rupiah", "saldo_akhir_rupiah")
    maju = next(row for row in rows[header + 1:] if row and row[0] == MAJU)
    assert maju[2:] == (0, 1_000_000, 0, 100_800, 11_200, 910_400)


def test_the_pdf_prints_every_amount_whole(auditor):
    response = auditor("/api/v1/funds?period=2025&format=pdf")
    assert response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Laporan Perubahan Dana" in text and "PSAK 109" in text
    for amount in ("Rp1.000.000", "Rp910.400", "Rp11.200", "Rp430.200"):
        assert amount in text, amount


def test_a_bad_period_is_refused_naming_it(auditor):
    problem = auditor("/api/v1/funds?period=2025-H3", status=400).get_json()
    assert "period" in str(problem)
