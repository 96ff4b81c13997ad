from ledger.bundle import verify_database
from tests.niks import nik


def test_whole_flow(programme):
    p = programme
    p.pledge("pt-maju-bersama", "pl-1", 100_000_000)
    p.receive("pt-maju-bersama", "rc-1", 60_000_000, "pl-1")
    p.receive("pt-sinar-laut", "rc-2", 40_000_000)
    p.submit(p.baznas, "amil.set_aside", {"programme": "sertakan-jakut-2025", "receipt": "rc-2", "company": "pt-sinar-laut", "amount_rupiah": 4_000_000})
    p.disburse("ds-1", [("rc-1", "pt-maju-bersama", 1_000_000), ("rc-2", "pt-sinar-laut", 500_000)])
    refs = [p.enrol(nik(i)) for i in range(10)]
    r = p.pay("b-2025-03", "ds-1", "2025-03", refs)
    assert r["count"] == 11
    report = verify_database(p.ledger)
    assert report.ok, [str(f) for f in report.failures]
    assert report.balances["coverage:premiums"] == 168_000
    assert p.ledger.personal_data(f"worker:{refs[0]}")["nik"] == nik(0)
