"""How long a company statement's queries take on PostgreSQL views the size of a 1M-entry year,
filled by SQL in the shape the bench's synthetic ledger gives (one company funding every line,
batches of 11,860, 12 months): what a statement costs when its cache is cold, as after every
new checkpoint. The views are built directly, so the figure is the queries' alone.

    python -m scripts.benchmarks.statement_probe --postgres postgresql://postgres@127.0.0.1:5432/test

To time an older checkout's queries on the same rows: fill with --keep, then run with
PYTHONPATH=that-checkout and --reuse (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import create_engine, text

from projections import tables as t
from projections.periods import parse_period
from projections.queries import statement_entries, statement_figures

SCHEMA = "bench_statement_probe"
BATCH = 11_860


def fill(engine, lines: int, workers: int) -> None:
    """The view rows a ledger of `lines` premium lines over `workers` workers would have."""
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    views = engine.execution_options(schema_translate_map={None: SCHEMA})
    t.metadata.create_all(views)
    steps = [
        "INSERT INTO view_organisations VALUES ('pt-bench', 'PT Bench', 'company')",
        "INSERT INTO view_programmes (programme, name, year, starts_on, ends_on, entry_index) "
        "VALUES ('bench-2025', 'Bench', 2025, '2025-01-01', '2025-12-31', 3)",
        "INSERT INTO view_receipts (receipt, programme, company, amount_rupiah, fund_type, received_on, amil_rupiah, "
        "drawn_rupiah, reversed, entry_index) VALUES ('rc-1', 'bench-2025', 'pt-bench', 500000000000, 'restricted', "
        "'2025-01-02', 0, 0, false, 4)",
        # each batch of lines follows its disbursement and header entries
        f"INSERT INTO view_premiums SELECT 100 + n + 2 * (n / {BATCH}), 'bench-2025', lpad(to_hex(n % {workers}), 64, "
        f"'0'), '2025-' || lpad((1 + n / {workers})::text, 2, '0'), 'd-' || (n / {BATCH}), 'b-' || (n / {BATCH}), "
        f"16800, 10000, 6800, 0, 'ojek_online', 'Kelapa Gading Barat', 'pt-bench', false, false "
        f"FROM generate_series(0, {lines - 1}) AS n",
        "INSERT INTO view_premium_shares SELECT entry_index, 'rc-1', 'pt-bench', 16800 FROM view_premiums",
        "INSERT INTO view_disbursements (disbursement, programme, to_organisation, amount_rupiah, period, made_on, "
        "charged_rupiah, reversed, entry_index) SELECT disbursement, 'bench-2025', 'bpjs', 16800 * count(*), "
        "min(month), '2025-01-03', 0, false, min(entry_index) - 2 FROM view_premiums GROUP BY disbursement",
        "INSERT INTO view_disbursement_sources SELECT disbursement, 'rc-1', 'pt-bench', amount_rupiah, 0 "
        "FROM view_disbursements",
        "INSERT INTO view_premium_batches SELECT batch, disbursement, min(month), count(*), 16800 * count(*), false, "
        "min(entry_index) - 1 FROM view_premiums GROUP BY batch, disbursement",
        "INSERT INTO view_funded_ranges SELECT 'pt-bench', month, min(entry_index), max(entry_index) FROM (SELECT "
        "month, entry_index, entry_index - row_number() OVER (ORDER BY entry_index) AS island FROM view_premiums) AS x "
        "GROUP BY month, island",
        "INSERT INTO view_company_months SELECT 'pt-bench', month, category, kelurahan, count(*), count(*), "
        "sum(amount_rupiah), 0 FROM view_premiums GROUP BY month, category, kelurahan",
        "INSERT INTO view_company_reach SELECT 'pt-bench', 2025, programme, worker, count(*) FILTER (WHERE month <= "
        "'2025-06'), count(*) FILTER (WHERE month > '2025-06') FROM view_premiums GROUP BY programme, worker",
    ]
    with views.begin() as connection:
        connection.execute(text(f"SET LOCAL search_path TO {SCHEMA}"))
        for step in steps:
            connection.execute(text(step))
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(f"VACUUM ANALYZE {SCHEMA}.view_premiums"))
        for table in t.metadata.sorted_tables:
            connection.execute(text(f"ANALYZE {SCHEMA}.{table.name}"))


def timed(engine, runs: int) -> dict:
    """Median milliseconds of each query, each run on a new connection (no cache of ours)."""
    views = engine.execution_options(schema_translate_map={None: SCHEMA})
    figures: dict = {}
    for name in ("2025", "2025-H1"):
        period = parse_period(name)
        for what, query in (("figures", statement_figures), ("entries", statement_entries)):
            seconds = []
            for _ in range(runs):
                with views.connect() as connection:
                    started = time.perf_counter()
                    query(connection, "pt-bench", period)
                    seconds.append(time.perf_counter() - started)
            figures[f"{what} {name} ms"] = round(statistics.median(seconds) * 1000, 1)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--lines", type=int, default=923_076, help="premium lines (the bench's 1M-entry ledger)")
    parser.add_argument("--workers", type=int, default=77_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the schema for a --reuse run")
    parser.add_argument("--reuse", action="store_true", help="time the rows a --keep run left")
    arguments = parser.parse_args(argv)
    engine = create_engine(arguments.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        if not arguments.reuse:
            fill(engine, arguments.lines, arguments.workers)
        print(timed(engine, arguments.runs))
    finally:
        if not arguments.keep:
            with engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    main()
