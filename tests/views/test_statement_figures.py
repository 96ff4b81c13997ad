"""Figures that say what they mean, built through signed submissions: full-year-equivalent
workers that add up across companies, refunds after a death, JKM to heirs apart from JKK, pledges
measured as first made, an award list over every invited company, a second programme year, a
view that fails out loud, and a signed statement checked offline by `amanah verify --statement`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from api.app import create_app
from cli.main import main as amanah
from ledger import payloads, signing
from ledger.bundle import export_bundle
from ledger.documents import sign_document
from ledger.domain.periods import parse_period
from ledger.domain.statements import StatementAccumulator
from ledger.entry import parse_stored_entry
from projections import projector
from projections import tables as t
from projections.awards import award_list
from projections.audit_queries import reconciliation
from projections.queries import programme_totals, statement_entries, statement_figures, to_ranges
from projections.reports import Reports
from projections.runner import SCHEMA, ProjectionRunner, ViewsBehind
from tests.domain.conftest import PROGRAMME
from tests.niks import nik

MAJU, SINAR, ABSENT = "pt-maju-bersama", "pt-sinar-laut", "pt-absen"
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]


def claim(p, name, worker, benefit, incident, amount, paid_on, **extra):
    p.submit(p.bpjs, "claim.filed", payloads.claim(PROGRAMME, name, worker, benefit, incident_on=incident,
                                                   filed_on=incident, **extra))
    p.submit(p.bpjs, "claim.approved", payloads.approval(PROGRAMME, name, worker, benefit, amount, incident, incident))
    p.submit(p.bpjs, "claim.paid", payloads.claim(PROGRAMME, name, worker, benefit, amount_rupiah=amount,
                                                  paid_on=paid_on))


@pytest.fixture
def history(programme):
    """Two companies fund four workers January to April; one worker's May premium is paid in
    advance and he dies on 20 April (JKM Rp42,000,000 to his heirs); another has a work accident
    (JKK to the worker). A third company was invited and never gave."""
    p = programme
    p.world.register(ABSENT, "company")
    for company in (MAJU, SINAR, ABSENT):
        p.submit(p.city, "company.invited", payloads.invitation(PROGRAMME, company, "2025-01-05"))
    p.pledge(MAJU, "pl-1", 100_000_000)
    p.receive(MAJU, "rc-1", 60_000_000, "pl-1")
    p.receive(SINAR, "rc-2", 40_000_000)
    p.disburse("ds-1", [("rc-1", MAJU, 504_000), ("rc-2", SINAR, 336_000)])
    workers = [p.enrol(nik(200 + n), category="dasawisma" if n == 3 else "ojek_online", enrolled_on="2025-01-10")
               for n in range(4)]
    for month in MONTHS:
        p.pay(f"b-{month}", "ds-1", month, workers)
    advance = p.pay("b-2025-05", "ds-1", "2025-05", workers[:1], paid_on="2025-04-10")
    claim(p, "jkm-1", workers[0], "jkm", "2025-04-20", 42_000_000, "2025-04-24")
    claim(p, "jkk-1", workers[1], "jkk", "2025-03-05", 2_500_000, "2025-03-10")
    p.workers_list, p.advance_line = workers, advance["first_index"] + 1
    return p


def refund_advance(p, runner) -> None:
    """BPJS refunds the May premium of the worker who died, to the companies that paid it."""
    runner.run()
    with runner.engine.connect() as connection:
        shares = connection.execute(select(t.premium_shares).where(
            t.premium_shares.c.entry_index == p.advance_line).order_by(t.premium_shares.c.receipt)).all()
    p.submit(p.bpjs, "premium.refunded", payloads.refund(
        PROGRAMME, p.workers_list[0], "2025-05", p.advance_line, 16_800, "2025-04-28",
        [(row.receipt, row.company, row.amount_rupiah) for row in shares]))


def recomputed(ledger, company: str, period_name: str) -> dict:
    accumulator = StatementAccumulator(company, parse_period(period_name))
    for start in range(0, ledger.size(), 1000):
        for _, leaf in ledger.entries(start, min(1000, ledger.size() - start)):
            accumulator.feed(parse_stored_entry(leaf))
    return accumulator.figures()


def test_company_figures_add_up_exactly_and_equal_the_offline_recomputation(history):
    runner = ProjectionRunner(history.ledger)
    refund_advance(history, runner)
    runner.run()
    period = parse_period("2025")
    with runner.engine.connect() as connection:
        figures = {company: statement_figures(connection, company, period) for company in (MAJU, SINAR)}
        totals = programme_totals(connection, 2025)
    for company in (MAJU, SINAR):
        assert figures[company] == recomputed(history.ledger, company, "2025"), company
    # 16 worker-months January to April; the refunded May premium is not coverage
    assert totals["worker_months"] == 16 and totals["full_year_equivalent_workers"] == "1.33"
    assert sum(item["worker_months"] for item in figures.values()) == 16
    # 8 worker-months each is 0.666... : the programme's 1.33 is split 0.67 + 0.66, never 0.67 + 0.67
    assert [figures[company]["full_year_equivalent_workers"] for company in (MAJU, SINAR)] == ["0.67", "0.66"]
    assert all(item["programme_full_year_equivalent_workers"] == "1.33" for item in figures.values())
    assert totals["premiums_rupiah"] == 16 * 16_800 and totals["premiums_refunded_rupiah"] == 16_800
    assert sum(item["premiums_funded_rupiah"] for item in figures.values()) == 16 * 16_800
    assert sum(item["premiums_refunded_rupiah"] for item in figures.values()) == 16_800
    assert "workers_covered" not in figures[MAJU] and totals["distinct_workers"] == 4
    # JKM to the heirs, JKK to the worker: shown apart, never one sum
    jkm, jkk = totals["claims_paid"]["by_benefit"]["jkm"], totals["claims_paid"]["by_benefit"]["jkk"]
    assert (jkm["paid_to"], jkm["amounts_rupiah"]) == ("heirs", [42_000_000])
    assert jkk["amounts_rupiah"] == [2_500_000] and jkk["fatal_count"] == 0
    assert "total_rupiah" not in totals["claims_paid"]
    runner.close()


def test_a_premium_paid_after_a_death_is_listed_until_refunded(history):
    runner = ProjectionRunner(history.ledger)
    runner.run()
    with runner.engine.connect() as connection:
        items = [item for item in reconciliation(connection, "2025-12-31")
                 if item["kind"] == "premium-after-death-not-refunded"]
        assert [item["entries"][0] for item in items] == [history.advance_line]
        assert "2025-05" in items[0]["detail"] and "2025-04-20" in items[0]["detail"]
        worker_months = programme_totals(connection)["worker_months"]
    refund_advance(history, runner)
    runner.run()
    with runner.engine.connect() as connection:
        assert not [item for item in reconciliation(connection, "2025-12-31")
                    if item["kind"] == "premium-after-death-not-refunded"]
        assert programme_totals(connection)["worker_months"] == worker_months - 1
    runner.close()


def amend(p, amount: int, on: str) -> None:
    p.submit(p.companies[MAJU], "pledge.amended", {"programme": PROGRAMME, "pledge": "pl-1", "amount_rupiah": amount,
                                                   "previous_rupiah": 100_000_000,
                                                   "reason": "budget revised by the board"}, f"{on}T08:00:00Z")


@pytest.mark.parametrize(("amended_on", "awarded"), [("2025-12-15", False), ("2025-11-10", True)])
def test_fulfilment_is_measured_against_the_pledge_before_the_last_month(history, amended_on, awarded):
    amend(history, 60_000_000, amended_on)
    runner = ProjectionRunner(history.ledger)
    refund_advance(history, runner)
    runner.run()
    with runner.engine.connect() as connection:
        statement = statement_figures(connection, MAJU, parse_period("2025"))
        # (most of the money is still undisbursed in this small history: reconciliation aside)
        listing = award_list(connection, 2025, {"exclude_open_reconciliation": False}, as_of="2025-12-31")
    assert (statement["pledged_rupiah"], statement["pledged_current_rupiah"]) == (100_000_000, 60_000_000)
    assert statement["pledge_fulfilment_percent"] == 60 and statement["pledge_outstanding_rupiah"] == 0
    assert statement["pledge_changes"] == [{"pledge": "pl-1", "kind": "amended", "on": amended_on,
                                            "previous_rupiah": 100_000_000, "amount_rupiah": 60_000_000,
                                            "reason": "budget revised by the board",
                                            "entry": statement["pledge_changes"][0]["entry"]}]
    names = {section: [row["company"] for row in listing[section]]
             for section in ("awarded", "not_awarded", "invited_not_contributing")}
    assert names["invited_not_contributing"] == [ABSENT] and listing["companies_invited"] == 3
    if awarded:  # amended before December: the amended pledge is the one to fulfil
        assert names["awarded"] == [MAJU, SINAR] and names["not_awarded"] == []
    else:  # amended in the last month: measured against Rp100,000,000, 60% fulfilled
        assert names["awarded"] == [SINAR] and names["not_awarded"] == [MAJU]
        assert listing["not_awarded"][0]["reasons"][0].startswith(
            "pledge not fulfilled: Rp60,000,000 received of Rp100,000,000")
    assert all("workers_covered" not in row for row in listing["awarded"] + listing["not_awarded"])
    runner.close()


def test_a_worker_enrolled_in_a_second_programme_year_is_projected(history):
    p = history
    p.submit(p.city, "programme.opened", payloads.programme_opened("sertakan-jakut-2026", 2026), "2026-01-02T08:00:00Z")
    worker = p.workers_list[2]
    p.submit(p.bpjs, "worker.enrolled", payloads.enrolment("sertakan-jakut-2026", worker, "ojek_online",
                                                           "Kelapa Gading Barat", "2026-01-05"), "2026-01-05T08:00:00Z")
    runner = ProjectionRunner(p.ledger)
    runner.run()
    assert runner.failure() is None and runner.position() == p.ledger.latest_checkpoint()["tree_size"]
    with runner.engine.connect() as connection:
        rows = connection.execute(select(t.workers.c.programme).where(t.workers.c.worker == worker)).all()
    assert sorted(row.programme for row in rows) == [PROGRAMME, "sertakan-jakut-2026"]
    incremental = runner.dump()
    runner.rebuild()
    assert runner.dump() == incremental
    runner.close()


def test_a_failing_view_is_shown_in_health_and_clears_on_the_next_run(history, monkeypatch):
    app = create_app({"SETTINGS": history.world.settings, "TESTING": True})
    client = app.test_client()
    assert client.get("/api/v1/health").get_json()["status"] == "ok"
    runner = app.extensions["amanah"].runner

    def broken(batch, entry):
        raise RuntimeError("disk full while writing view_pledges")

    monkeypatch.setitem(projector.HANDLERS, "pledge.made", broken)
    history.pledge(SINAR, "pl-2", 5_000_000)
    assert client.get("/api/v1/totals").status_code == 200  # its catch-up fails: kept and said, not raised
    health = client.get("/api/v1/health").get_json()
    assert health["status"] == "degraded" and health["views_behind"] >= 1
    assert "disk full while writing view_pledges" in health["views_error"]["error"]
    assert health["views_error"]["position"] == health["views_position"]
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "The views are behind the log" in page and "disk full while writing view_pledges" in page
    with pytest.raises(ViewsBehind):
        Reports(history.ledger, runner).statement(MAJU, "2025")
    assert client.get("/api/v1/awards/2025").status_code == 503
    monkeypatch.undo()
    assert client.get("/api/v1/totals").get_json()["pledged_rupiah"] == 105_000_000  # the next run retries
    health = client.get("/api/v1/health").get_json()
    assert health["status"] == "ok" and health["views_error"] is None and health["views_behind"] == 0
    app.extensions["amanah"].close()


def test_a_signed_statement_is_checked_offline_and_an_altered_figure_is_named(history, tmp_path, capsys):
    runner = ProjectionRunner(history.ledger)
    refund_advance(history, runner)
    statement = Reports(history.ledger, runner).statement(MAJU, "2025")
    history.pledge(SINAR, "pl-later", 1_000_000)  # the bundle runs past the statement's checkpoint
    bundle = tmp_path / "bundle"
    export_bundle(history.ledger, bundle)
    genuine = tmp_path / "statement.json"
    genuine.write_text(json.dumps(statement))
    assert amanah(["verify", str(bundle), "--statement", str(genuine)]) == 0
    assert f"STATEMENT OK {genuine}" in capsys.readouterr().out

    body = {name: value for name, value in statement.items() if name != "signature"}
    body["worker_months"] += 5
    body["claims_paid"]["by_benefit"]["jkm"]["amounts_rupiah"] = [42_000_001]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(sign_document(body, history.ledger.origin, history.world.checkpoint_key)))
    assert amanah(["verify", str(bundle), "--statement", str(forged)]) == 1
    out = capsys.readouterr().out
    expected = statement["worker_months"]
    assert f"worker_months: stated {expected + 5}, recomputed {expected}" in out
    assert "claims_paid.by_benefit.jkm.amounts_rupiah: stated [42000001], recomputed [42000000]" in out
    assert out.count("STATEMENT FIGURE DIFFERS") == 2 and "OK: " in out  # the bundle itself is intact

    hidden = {name: value for name, value in json.loads(genuine.read_text()).items() if name != "signature"}
    ranges = hidden["entries"]
    first, last = ranges[-1]
    hidden["entries"] = [*ranges[:-1], [first, last - 1]]  # the last line it rests on left out
    (tmp_path / "hidden.json").write_text(json.dumps(sign_document(hidden, history.ledger.origin,
                                                                   history.world.checkpoint_key)))
    assert amanah(["verify", str(bundle), "--statement", str(tmp_path / "hidden.json")]) == 1
    out = capsys.readouterr().out
    assert f"entries[{len(ranges) - 1}] (of {len(ranges)} ranges stated, {len(ranges)} recomputed): stated " \
           f"[{first}, {last - 1}], recomputed [{first}, {last}]" in out
    assert out.count("STATEMENT FIGURE DIFFERS") == 1

    unsigned = dict(statement, received_rupiah=statement["received_rupiah"] + 1)
    (tmp_path / "edited.json").write_text(json.dumps(unsigned))
    assert amanah(["verify", str(bundle), "--statement", str(tmp_path / "edited.json")]) == 1
    assert "signature:" in capsys.readouterr().out

    (tmp_path / "award.json").write_text(json.dumps({"kind": "amanah/award-list"}))
    assert amanah(["verify", str(bundle), "--statement", str(tmp_path / "award.json")]) == 2
    assert "statement: not an impact statement" in capsys.readouterr().err
    bad_period = dict(statement, period="2025-Q3")
    (tmp_path / "period.json").write_text(json.dumps(bad_period))
    assert amanah(["verify", str(bundle), "--statement", str(tmp_path / "period.json")]) == 2
    assert "statement.period: must be a year" in capsys.readouterr().err
    runner.close()


def test_unusual_jkk_amounts_are_listed_for_the_auditor(history):
    p = history
    claim(p, "jkk-2", p.workers_list[3], "jkk", "2025-04-05", 40_000_000, "2025-04-09", fatal=True)
    runner = ProjectionRunner(p.ledger)
    runner.run()
    with runner.engine.connect() as connection:
        items = [item for item in reconciliation(connection, "2025-12-31") if item["kind"] == "jkk-amount-unusual"]
        totals = programme_totals(connection)
    assert [item["detail"] for item in items] == [
        "fatal JKK claim jkk-2: Rp40,000,000, not 48 x the declared income (Rp48,000,000)"]
    assert totals["claims_paid"]["by_benefit"]["jkk"]["fatal_count"] == 1  # the injury JKK is not listed
    runner.close()


def test_views_of_an_earlier_table_layout_are_rebuilt_from_the_log(history):
    runner = ProjectionRunner(history.ledger)
    runner.run()
    expected = runner.dump()
    with runner.engine.begin() as connection:  # as an earlier version left them: no schema row, other rows
        connection.execute(t.tracking.delete().where(t.tracking.c.name == SCHEMA))
        connection.execute(t.premiums.delete())
    runner.close()
    again = ProjectionRunner(history.ledger)
    assert again.position() == 0
    again.run()
    assert again.dump() == expected
    again.close()


def test_a_statement_verified_under_a_witness_policy_needs_its_checkpoint_cosigned(history, tmp_path, capsys):
    """A company can prove later that what it was told was witnessed: under --witness/--quorum
    the statement's own checkpoint must carry the cosignature (whatever its age)."""
    from ledger.witness import cosign, cosigner_verifier_key, with_signature_lines

    runner = ProjectionRunner(history.ledger)
    statement = Reports(history.ledger, runner).statement(MAJU, "2025")
    bundle = tmp_path / "bundle"
    export_bundle(history.ledger, bundle)
    witness_key = signing.generate()
    name = "witness.city.example/w1"
    policy = ["--witness", cosigner_verifier_key(name, signing.public_key_bytes(witness_key)), "--quorum", "1"]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(statement))
    assert amanah(["verify", str(bundle), "--statement", str(plain), *policy]) == 1
    assert f"STATEMENT FAIL {plain}: witnesses: checkpoint" in capsys.readouterr().out

    note_text = statement["checkpoint"]["note"]
    body = note_text.split("\n\n", 1)[0] + "\n"
    cosigned_note = with_signature_lines(note_text, [cosign(body, name, witness_key, 1_700_000_000)])
    body_fields = {key: value for key, value in statement.items() if key != "signature"}
    body_fields["checkpoint"] = {**statement["checkpoint"], "note": cosigned_note}
    witnessed = tmp_path / "witnessed.json"
    witnessed.write_text(json.dumps(sign_document(body_fields, history.ledger.origin, history.world.checkpoint_key)))
    # the bundle's own latest checkpoint has no cosignature (exit 1), but the statement's does,
    # and its age is not held against a statement kept since
    assert amanah(["verify", str(bundle), "--statement", str(witnessed), *policy, "--max-cosignature-age", "60"]) == 1
    out = capsys.readouterr().out
    assert f"STATEMENT OK {witnessed}" in out and "witnesses:" not in out
    runner.close()


def test_views_busy_with_another_runner_are_not_a_failure(history, monkeypatch):
    """A lock wait that times out (another process is applying the same batch) stops this run
    quietly: the views do not report a failure, and statements keep being served."""
    import sqlite3

    runner = ProjectionRunner(history.ledger)

    def locked(start, target):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(runner, "_one_batch", locked)
    assert runner.run() == 0
    assert runner.failure() is None and runner.status()["views_error"] is None
    monkeypatch.undo()
    assert runner.run() > 0 and runner.failure() is None
    runner.close()


@pytest.mark.parametrize("batch_size", [1000, 1], ids=["one-batch", "entry-by-entry"])
def test_a_statements_entry_ranges_are_exactly_the_entries_it_rests_on(history, batch_size):
    """The statement's ranges are the same as listing every entry of the company's pledges,
    receipts, amil, disbursements, batches and funded premiums one by one, whether the views
    applied the lines in one transaction or one entry at a time (runs then end at each batch)."""
    runner = ProjectionRunner(history.ledger, batch_size=batch_size)
    refund_advance(history, runner)
    runner.run()
    with runner.engine.connect() as connection:
        for company in (MAJU, SINAR, ABSENT):
            for name in ("2025", "2025-H1", "2025-H2"):
                period = parse_period(name)
                drawn = {row.disbursement for row in connection.execute(select(t.disbursement_sources).where(
                    t.disbursement_sources.c.company == company))}
                funded = {row.entry_index for row in connection.execute(select(t.premium_shares).where(
                    t.premium_shares.c.company == company))}
                indexes = {row.entry_index for table in (t.pledges, t.receipts, t.amil)
                           for row in connection.execute(select(table).where(table.c.company == company))}
                indexes |= {row.entry_index for table in (t.disbursements, t.premium_batches)
                            for row in connection.execute(select(table)) if row.disbursement in drawn}
                indexes |= {row.entry_index for row in connection.execute(select(t.premiums))
                            if row.entry_index in funded and period.first_month <= row.month <= period.last_month}
                ranges = statement_entries(connection, company, period)
                assert ranges == to_ranges(sorted(indexes)), (company, name)
                assert (ranges == []) == (company == ABSENT)
    runner.close()
