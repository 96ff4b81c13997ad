"""docs/events.md documents every registered event type exactly as the code checks it: one
section per type, one table row per payload field the type accepts (marked required or
optional as the spec has it), no row for a field the type would refuse, and who may sign it.
Adding a field or an event type without documenting it fails here."""

from __future__ import annotations

import importlib
import re
from functools import partial
from pathlib import Path

import pytest

import ledger.checkpoint_keys  # noqa: F401  (registers ledger.checkpoint_key_rotated)
import ledger.domain  # noqa: F401  (registers the money flow's types)
import ledger.organisations  # noqa: F401  (registers genesis and the key events)
from ledger import fields
from ledger.event_types import ORGANISATION_KINDS, REGISTRY

DOCS = Path(__file__).resolve().parents[2] / "docs"
EVENTS = (DOCS / "events.md").read_text()
SECTION = re.compile(r"^## `([a-z_.]+)`\s*$", re.MULTILINE)
ROW = re.compile(r"^\| `([A-Za-z_.\[\]]+)` \| (required|optional)[^|]*\|", re.MULTILINE)


def sections() -> dict[str, str]:
    """Each `## \\`type\\`` heading of docs/events.md and the text up to the next heading."""
    heads = list(SECTION.finditer(EVENTS))
    return {head.group(1): EVENTS[head.end():heads[n + 1].start() if n + 1 < len(heads) else len(EVENTS)]
            for n, head in enumerate(heads)}


def documented_rows(section: str) -> dict[str, str]:
    """Field path -> 'required' or 'optional', from the section's tables."""
    return {match.group(1): match.group(2) for match in ROW.finditer(section)}


class _Recorded(Exception):
    pass


def accepted_fields(check_payload, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """(required, optional) of a type's payload check: a `spec()` partial's keywords, or the
    first `fields.check_payload` call a hand-written checker makes."""
    if isinstance(check_payload, partial) and "spec" in check_payload.keywords:
        return check_payload.keywords["spec"], check_payload.keywords.get("optional") or {}
    seen = []

    def record(payload, where, spec, optional=None):
        seen.append((spec, optional or {}))
        raise _Recorded

    monkeypatch.setattr(fields, "check_payload", record)
    with pytest.raises(_Recorded):
        check_payload({}, "payload")
    monkeypatch.undo()
    return seen[0]


NESTED = {  # list-of-object fields, and the spec() partial each item is checked with
    "sources": ("ledger.domain.money", "SOURCE"),
    "funders": ("ledger.domain.money", "SOURCE"),  # a refund's funders are sources too
}


def nested_fields(name: str) -> dict[str, dict]:
    """Row prefix -> the fields of the objects listed in `name`, when the checker is known."""
    if name not in NESTED:
        return {}
    module, attribute = NESTED[name]
    item = getattr(importlib.import_module(module), attribute)
    return {f"{name}[]": {**item.keywords["spec"], **(item.keywords.get("optional") or {})}}


def test_every_registered_type_has_a_section_and_nothing_else_does():
    documented = sections()
    assert sorted(set(REGISTRY) - set(documented)) == [], "event types missing from docs/events.md"
    assert sorted(set(documented) - set(REGISTRY)) == [], "docs/events.md documents unknown types"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_payload_field_is_documented_as_the_spec_checks_it(name, monkeypatch):
    section = sections().get(name)
    assert section is not None, f"docs/events.md has no section for {name}"
    required, optional = accepted_fields(REGISTRY[name].check_payload, monkeypatch)
    rows = documented_rows(section)
    top = {path: state for path, state in rows.items() if not re.search(r"[.\[]", path)}
    expected = {**{field: "required" for field in required}, **{field: "optional" for field in optional}}
    assert top == expected, f"{name}: the field table differs from the payload spec"
    for path in rows:
        assert re.split(r"[.\[]", path)[0] in expected, f"{name}: {path} is not a field of the type"
    for field in {**required, **optional}:
        for prefix, nested in nested_fields(field).items():
            documented = {path[len(prefix) + 1:] for path in rows if path.startswith(prefix + ".")}
            assert documented == set(nested), f"{name}: the rows under {prefix} differ from its spec"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_section_says_who_signs_which_aggregate_and_the_postings(name):
    section = sections()[name]
    signed_by = re.search(r"^Signed by: (.+)$", section, re.MULTILINE)
    assert signed_by, f"{name}: no 'Signed by:' line"
    kinds = set(re.findall(r"`([a-z]+)`", signed_by.group(1))) & set(ORGANISATION_KINDS)
    assert kinds == set(REGISTRY[name].emitters), f"{name}: signers differ from the registry"
    assert re.search(r"^Aggregate: \S", section, re.MULTILINE), f"{name}: no 'Aggregate:' line"
    assert re.search(r"^Postings: \S", section, re.MULTILINE), f"{name}: no 'Postings:' line"


def test_every_reversible_type_and_its_reference_fields_are_documented():
    from ledger.domain.reversals import REFERENCES

    rows = documented_rows(sections()["entry.reversed"])
    reversible = re.search(r"^Reversible: (.+)$", sections()["entry.reversed"], re.MULTILINE)
    assert reversible, "entry.reversed: no 'Reversible:' line"
    assert set(re.findall(r"`([a-z_.]+)`", reversible.group(1))) == set(REFERENCES)
    documented = {path.split(".", 1)[1] for path in rows if path.startswith("reference.")}
    assert documented == {field for spec, _ in REFERENCES.values() for field in spec}


def test_verifying_and_domain_link_to_the_event_tables():
    for name in ("verifying.md", "domain.md"):
        assert "events.md" in (DOCS / name).read_text(), f"docs/{name} does not link docs/events.md"


WORKED_ROW = re.compile(r"^\| Rp([0-9,]+), `([a-z_]+)`, (no JHT|JHT) \| ([0-9]{4}-[0-9]{2}) \| ([0-9,]+) \| ([0-9,]+) \| "
                        r"([0-9,]+) \| \**([0-9,]+)\**", re.MULTILINE)


def test_the_worked_premiums_of_domain_md_are_what_the_shipped_rules_give():
    from ledger.domain.rates import default_rules, premium_for

    rows = WORKED_ROW.findall((DOCS / "domain.md").read_text())
    assert len(rows) >= 4, "docs/domain.md lost its worked premiums"
    number = lambda text: int(text.replace(",", ""))  # noqa: E731
    for income, category, jht, month, jkk, jkm, jht_rupiah, total in rows:
        premium = premium_for(default_rules(), number(income), category, month, jht == "JHT")
        assert (premium.jkk_rupiah, premium.jkm_rupiah, premium.jht_rupiah, premium.amount_rupiah) == (
            number(jkk), number(jkm), number(jht_rupiah), number(total)), (income, category, jht, month)


def test_the_signer_table_of_verifying_md_lists_every_type_with_its_kinds():
    text = (DOCS / "verifying.md").read_text()
    table = text[text.index("| type | kind of actor |"):]
    table = table[:table.index("\n\n")]
    listed: dict[str, set[str]] = {}
    for row in table.splitlines()[2:]:
        types, kinds = row.strip("|").rsplit("|", 1)
        for name in re.findall(r"`([a-z_.]+)`", types):
            listed[name] = set(re.findall(r"[a-z]+", kinds)) & set(ORGANISATION_KINDS)
    assert listed == {name: set(event_type.emitters) for name, event_type in REGISTRY.items()}
