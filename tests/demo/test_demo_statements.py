"""On the demo year: the companies' figures add up exactly to the programme's, the views' statement
figures equal the pure accumulator's (what `amanah verify --statement` recomputes offline), and
one company's signed statement verifies against an exported bundle."""

from __future__ import annotations

import json

from cli.main import main as amanah
from api.services import Services
from ledger.application import Ledger
from ledger.bundle import export_bundle
from ledger.domain.periods import parse_period
from ledger.domain.statements import StatementAccumulator
from ledger.entry import parse_stored_entry
from projections.queries import programme_totals, statement_figures
from projections.runner import ProjectionRunner


def facts(home) -> dict:
    return json.loads((home / "demo-facts.json").read_text())


def test_demo_company_figures_add_up_and_equal_the_offline_recomputation(demo_settings, demo_home):
    contributors = facts(demo_home)["contributors"]
    checked = sorted({facts(demo_home)["raised_pledge"], facts(demo_home)["gave_twice"], contributors[-1]})
    ledger = Ledger(demo_settings)
    runner = ProjectionRunner(ledger)
    try:
        runner.run()
        size = runner.position()
        accumulators = {(company, name): StatementAccumulator(company, parse_period(name))
                        for company in checked for name in ("2025", "2025-H2")}
        for start in range(0, size, 1000):
            for _, leaf in ledger.entries(start, min(1000, size - start)):
                entry = parse_stored_entry(leaf)
                for accumulator in accumulators.values():
                    accumulator.feed(entry)
        with runner.engine.connect() as connection:
            for (company, name), accumulator in accumulators.items():
                assert statement_figures(connection, company, parse_period(name)) == accumulator.figures(), company
            totals = programme_totals(connection, 2025)
            year = [statement_figures(connection, company, parse_period("2025")) for company in contributors]
    finally:
        runner.close()
        ledger.close()
    assert sum(figures["worker_months"] for figures in year) == totals["worker_months"]
    hundredths = sum(int(figures["full_year_equivalent_workers"].replace(".", "")) for figures in year)
    assert hundredths == int(totals["full_year_equivalent_workers"].replace(".", ""))
    assert sum(figures["premiums_funded_rupiah"] for figures in year) == totals["premiums_rupiah"]
    # distinct workers reached overlap between companies: their sum exceeds the people reached
    assert sum(figures["distinct_workers_reached_overlapping"] for figures in year) > totals["distinct_workers"]


def test_a_demo_statement_verifies_offline_against_a_bundle(demo_settings, demo_home, tmp_path, capsys):
    company = facts(demo_home)["raised_pledge"]
    services = Services.build(demo_settings)  # with the ledger's key, to sign
    try:
        statement = services.reports.statement(company, "2025")
        export_bundle(services.ledger, tmp_path / "bundle")
    finally:
        services.close()
    (tmp_path / "statement.json").write_text(json.dumps(statement))
    assert amanah(["verify", str(tmp_path / "bundle"), "--statement", str(tmp_path / "statement.json")]) == 0
    assert "STATEMENT OK" in capsys.readouterr().out
