"""The benchmark figures as the tables of docs/benchmarks.md: one per scale, then their growth."""

from __future__ import annotations

from ledger.config import DEFAULT_AGGREGATE_CACHE


def _rows(results: dict) -> list[tuple[str, str, str, str, str, bool]]:
    """(what, figure, baseline, ratio, target, met) for one scale's results."""
    rows = []
    for name, label in (("ingest_sqlite", "SQLite"), ("ingest_postgres", "PostgreSQL")):
        if name in results:
            ingest = results[name]
            rows.append((f"ingest, one signed batch of {ingest.get('lines', 0):,} premiums, {label}",
                         f"{ingest['ours_lines_per_s']:,.0f} lines/s",
                         f"{ingest['baseline_lines_per_s']:,.0f} lines/s (plain eventsourcing save)",
                         f"{ingest['ratio']:.2f}x", ">= 0.8x", ingest["ratio"] >= 0.8))
    if "sustained" in results:
        sustained = results["sustained"]
        where = "PostgreSQL" if sustained["postgres"] else "SQLite"
        rows.append((f"sustained ingest, {sustained['lines']:,} premium lines in {sustained['batches']:,} batches of up "
                     f"to {sustained['batch_lines']:,}, {where}, aggregate cache "
                     f"{sustained.get('aggregate_cache', DEFAULT_AGGREGATE_CACHE):,}",
                     f"{sustained['lines_per_s']:,.0f} lines/s (first batch {sustained['first_batch_lines_per_s']:,.0f}, "
                     f"slowest {sustained['slowest_batch_lines_per_s']:,.0f})", "-", "-", ">= 8,400 lines/s",
                     sustained["lines_per_s"] >= 8_400))
    verify, rebuild, proofs = results["verify"], results["rebuild"], results["proofs"]
    rows += [
        (f"verify a {verify['entries']:,}-entry bundle ({verify['jobs']} processes)",
         f"{verify['verify_entries_per_s']:,.0f} entries/s, peak {verify['verify_peak_rss_mb']:.0f} MB"
         + (f" (format 1: {verify['verify_format_1_entries_per_s']:,.0f} entries/s)"
            if "verify_format_1_entries_per_s" in verify else ""),
         f"{verify['raw_parse_hash_per_s']:,.0f} entries/s (parse + hash)", f"{verify['verify_ratio']:.2f}x",
         ">= 50,000/s, <= 512 MB", verify["verify_entries_per_s"] >= 50_000 and verify["verify_peak_rss_mb"] <= 512),
        (f"views rebuild from {rebuild['entries']:,} events", f"{rebuild['rebuild_events_per_s']:,.0f} events/s",
         f"{rebuild['read_decode_per_s']:,.0f} events/s (read + decode)", f"{rebuild['rebuild_ratio']:.2f}x",
         ">= 20,000/s", rebuild["rebuild_events_per_s"] >= 20_000),
        (f"proofs at {proofs['leaves']:,} leaves, in process",
         f"inclusion p99 {proofs['inclusion_p99_ms']:.3f} ms, consistency p99 {proofs['consistency_p99_ms']:.3f} ms",
         "-", "-", "p99 <= 2 ms", max(proofs["inclusion_p99_ms"], proofs["consistency_p99_ms"]) <= 2),
    ]
    rows += _storage_rows(results)
    for name, label in (("http_sqlite", "SQLite"), ("http_postgres", "PostgreSQL")):
        if name in results:
            http = results[name]
            statement, health = http["statement"], http["health"]
            rows += [
                (f"server start to first healthy answer, {http['entries']:,} entries, {label}",
                 f"{http['ready_seconds']:.1f} s (first submission then {http['first_submission_ms']:.1f} ms)",
                 "-", "-", "<= 5 s", http["ready_seconds"] <= 5),
                (f"single submission through HTTP, {label}",
                 f"p50 {http['submission_p50_ms']:.1f} ms, p99 {http['submission_p99_ms']:.1f} ms",
                 "-", "-", "p99 <= 50 ms", http["submission_p99_ms"] <= 50),
                (f"company statement at {http['entries']:,} entries, {label} (2 workers, 4 client threads)",
                 _load_figure(statement), _load_figure(health, "/health "),
                 "-" if None in (statement["p99_ms"], health["p99_ms"]) else
                 f"{statement['p99_ms'] / health['p99_ms']:.1f}x",
                 "p99 <= 25 ms, 0 errors", statement["p99_ms"] is not None and statement["p99_ms"] <= 25
                 and statement["errors"] == 0),
            ]
    return rows


def _storage_rows(results: dict) -> list[tuple[str, str, str, str, str, bool]]:
    rows = []
    for name, label in (("storage_sqlite", "SQLite"), ("storage_postgres", "PostgreSQL")):
        if name in results:
            storage = results[name]
            rows.append((f"bytes per entry in the ledger's tables and indexes, {storage['entries']:,} entries, {label}",
                         f"{storage['ledger_bytes_per_entry']:,.0f} B ({storage['stored_events_bytes_per_entry']:,.0f} B "
                         "in the events table)", "-", "-", "<= 1,000 B", storage["ledger_bytes_per_entry"] <= 1_000))
            if "bundle_bytes_per_premium_line" in storage:
                format_1 = storage.get("bundle_format_1_bytes_per_premium_line")
                rows.append((f"bytes per premium line in the bundle ({storage['bundle_premium_lines']:,} lines"
                             f"{', ' + storage['bundle_format'] + ', with its share of its submission record' if 'bundle_format' in storage else ''})",
                             f"{storage['bundle_bytes_per_premium_line']:,.0f} B",
                             f"format 1: {format_1:,.0f} B" if format_1 else "-",
                             f"{storage['bundle_bytes_per_premium_line'] / format_1:.2f}x" if format_1 else "-",
                             "<= 600 B", storage["bundle_bytes_per_premium_line"] <= 600))
    return rows


def scale_table(results: dict) -> str:
    lines = [f"Scale `{results['scale']}` on {results['machine']}, Python {results['python']}, {results['date']}, "
             f"command `{results['command']}`.", "",
             "| what | figure | baseline, same run | ratio | target | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {what} | {figure} | {base} | {ratio} | {target} | {'yes' if met else '**no**'} |"
              for what, figure, base, ratio, target, met in _rows(results)]
    return "\n".join(lines) + "\n"


GROWTH = [
    # (label, how to read the figure from one scale's results)
    ("ledger entries", lambda r: f"{r['verify']['entries']:,}"),
    ("ingest lines/s, SQLite (ratio)", lambda r: _rate(r.get("ingest_sqlite"), "ours_lines_per_s", "ratio")),
    ("ingest lines/s, PostgreSQL (ratio)", lambda r: _rate(r.get("ingest_postgres"), "ours_lines_per_s", "ratio")),
    ("verify entries/s (ratio)", lambda r: _rate(r["verify"], "verify_entries_per_s", "verify_ratio")),
    ("verify peak MB", lambda r: f"{r['verify']['verify_peak_rss_mb']:.0f}"),
    ("rebuild events/s (ratio)", lambda r: _rate(r["rebuild"], "rebuild_events_per_s", "rebuild_ratio")),
    ("proof leaves", lambda r: f"{r['proofs']['leaves']:,}"),
    ("inclusion / consistency p99 ms", lambda r: f"{r['proofs']['inclusion_p99_ms']:.3f} / "
                                                 f"{r['proofs']['consistency_p99_ms']:.3f}"),
    ("submission p99 ms, SQLite / PostgreSQL", lambda r: _pair(r, "submission_p99_ms")),
    ("statement p99 ms, SQLite / PostgreSQL", lambda r: _pair(r, "statement")),
    ("server ready s, SQLite / PostgreSQL", lambda r: _pair(r, "ready_seconds")),
    ("ledger bytes per entry, SQLite", lambda r: "-" if "storage_sqlite" not in r else
     f"{r['storage_sqlite']['ledger_bytes_per_entry']:,.0f}"),
]


def _load_figure(load: dict, prefix: str = "") -> str:
    """A load's p99, rate and errors; or, when nothing answered in its window, that and why."""
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(load.get("error_kinds", {}).items()))
    if load["p99_ms"] is None:
        return f"{prefix}no answer in {load.get('seconds', 0):.0f} s ({load['errors']} errors: {kinds or 'none'})"
    errors = f"{load['errors']} errors" + (f" ({kinds})" if kinds else "")
    return f"{prefix}p99 {load['p99_ms']:.1f} ms, {load['requests_per_s']:,.0f} req/s, {errors}"


def _rate(figures: dict | None, rate: str, ratio: str) -> str:
    return "-" if figures is None else f"{figures[rate]:,.0f} ({figures[ratio]:.2f}x)"


def _pair(results: dict, name: str) -> str:
    values = []
    for key in ("http_sqlite", "http_postgres"):
        http = results.get(key)
        value = None if http is None else (http[name]["p99_ms"] if name == "statement" else http.get(name))
        values.append("-" if value is None else f"{value:.1f}")  # "-" also when nothing answered
    return " / ".join(values)


def growth_table(all_results: list[dict]) -> str:
    """How each figure grows from scale to scale: per-entry rates should stay flat."""
    header = "| figure | " + " | ".join(f"`{r['scale']}`" for r in all_results) + " |"
    lines = [header, "|---|" + "---|" * len(all_results)]
    lines += [f"| {label} | " + " | ".join(read(r) for r in all_results) + " |" for label, read in GROWTH]
    return "\n".join(lines) + "\n"


def markdown(all_results: list[dict]) -> str:
    parts = [scale_table(results) for results in all_results]
    if len(all_results) > 1:
        parts.append("How the figures grow with scale:\n\n" + growth_table(all_results))
    return "\n".join(parts)
