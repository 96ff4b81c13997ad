"""CSV renderings of signed statements and award lists (RFC 4180, every text cell quoted, the
formula-injection guard; see projections/render.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable

# ---------------------------------------------------------------------------------------------
# CSV

FIGURES = ("pledged_rupiah", "pledged_current_rupiah", "pledge_fulfilment_percent", "received_rupiah",
           "pledge_outstanding_rupiah", "amil_rupiah", "disbursed_rupiah", "unspent_held_rupiah",
           "premiums_funded_rupiah", "premiums_refunded_rupiah", "worker_months", "full_year_equivalent_workers",
           "programme_full_year_equivalent_workers", "distinct_workers_reached_overlapping")
BREAKDOWN_FIELDS = ("worker_months", "premiums_funded_rupiah")
MONTH_FIELDS = ("received_rupiah", "premiums_funded_rupiah", "worker_months")
AWARD_COLUMNS = ("year", "status", "awarded", "rank", "tier", "company", "legal_name", "invited_on", "received_rupiah",
                 "pledged_rupiah", "award_pledge_basis_rupiah", "pledge_fulfilment_percent", "worker_months",
                 "full_year_equivalent_workers", "premiums_funded_rupiah", "decision_entry", "decided_by", "decided_on",
                 "criteria_entry", "reasons")
CLAIM_FIELDS = ("count", "total_rupiah", "amounts_rupiah")
# A cell, or a piece of one after a separator some spreadsheet splits on (comma, semicolon in
# Indonesian locales, tab, pipe, line break), starting with one of these is read as a formula.
_FORMULA_START = re.compile(r"(^|[,;|\t\r\n])([ \"']*)(?=[=+\-@\t\r])")


def _csv_value(value: object) -> object:
    """A cell as written: integers as they are, text guarded against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, (list, dict)):
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _FORMULA_START.sub(lambda match: match.group(1) + match.group(2) + "'", str(value))


def _write_csv(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO(newline="")
    # RFC 4180; every text cell quoted, so a separator inside one never splits it for a reader
    # that honours quotes; integers (rupiah, counts) stay bare numbers a spreadsheet sums.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue()


def statement_csv(statement: dict) -> str:
    """An impact statement as `section,key,value` rows with integer rupiah.

    Breakdowns use the section to name what is counted and the key to name the group, so a
    spreadsheet sums a section: `by_category.worker_months,ojek_online,10`."""
    company = statement.get("company") or {}
    rows: list[tuple[str, str, object]] = [("section", "key", "value")]
    rows += [("document", key, statement.get(key)) for key in ("kind", "version", "ledger", "generated_at")]
    rows += [("company", "organisation", company.get("organisation")), ("company", "legal_name", company.get("legal_name"))]
    rows += [("period", key, statement.get(key)) for key in ("period", "from", "to")]
    extra = sorted(key for key in statement if key.endswith("_rupiah") and key not in FIGURES)
    rows += [("figures", key, statement.get(key, 0)) for key in (*FIGURES, *extra)]
    for dimension in ("by_category", "by_kelurahan"):
        groups = statement.get(dimension) or {}
        for field in BREAKDOWN_FIELDS:
            rows += [(f"{dimension}.{field}", name, values.get(field, 0)) for name, values in groups.items()]
    for field in MONTH_FIELDS:
        rows += [(f"by_month.{field}", month["month"], month.get(field, 0)) for month in statement.get("by_month") or []]
    rows += [("pledge_changes", str(change.get("entry")), change) for change in statement.get("pledge_changes") or []]
    claims = statement.get("claims_paid") or {}
    for field in CLAIM_FIELDS:  # JKM (to heirs) and JKK (to the worker) side by side, never one sum
        rows += [(f"claims_paid.{field}", benefit, values.get(field, 0))
                 for benefit, values in (claims.get("by_benefit") or {}).items()]
    rows.append(("claims_paid", "entries", claims.get("entries", [])))
    rows.append(("entries", "ranges", statement.get("entries", [])))
    rows += _checkpoint_and_signature_rows(statement)
    return _write_csv(rows)


def _checkpoint_and_signature_rows(document: dict) -> list[tuple[str, str, object]]:
    checkpoint = document.get("checkpoint") or {}
    signature = document.get("signature") or {}
    return ([("checkpoint", key, checkpoint.get(key)) for key in ("tree_size", "root", "note")]
            + [("signature", key, signature.get(key))
               for key in ("algorithm", "canonicalisation", "context", "verifier_key", "value")])


def awards_csv(award_list: dict) -> str:
    """An award list as one row per company: awarded companies in rank order, then those listed
    separately (awarded=no, with their reasons joined by "; ")."""
    rows: list[list[object]] = [list(AWARD_COLUMNS)]
    year = award_list.get("year")
    decision = award_list.get("decision") or {}
    source = award_list.get("criteria_source") or {}
    decided = {"decision_entry": decision.get("entry"), "decided_by": decision.get("signed_by"),
               "decided_on": decision.get("on"), "criteria_entry": source.get("entry")}
    for status, awarded, entries in (("awarded", True, award_list.get("awarded") or []),
                                     ("contributed, not awarded", False, award_list.get("not_awarded") or []),
                                     ("invited, did not contribute", False,
                                      award_list.get("invited_not_contributing") or [])):
        for entry in entries:
            values = {**entry, **decided, "year": year, "status": status, "awarded": awarded,
                      "reasons": "; ".join(entry.get("reasons") or [])}
            rows.append([values.get(column) for column in AWARD_COLUMNS])
    return _write_csv(rows)
