"""Corrections: a new signed event reverses one of the actor's own earlier events, once, with
a reason code. History is never edited. A reversal that would break a rule is refused (a
receipt already disbursed cannot be reversed: the disbursement goes first).

This module holds the `entry.reversed` event type and the one registry of reversal rules. Each
rule lives beside the rule it reverses (pledges.py, receipts.py, disbursements.py, claims.py,
worker_reversals.py) and registers itself with `reversal_rule`; the writer, the verifier and
the views all read `REVERSAL_RULES`. What each reversal undoes on the state is in the
aggregates' reversal tables (programme._REVERSALS, workers._WORKER_REVERSALS,
claims_state.CLAIM_REVERSALS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from ledger import fields
from ledger.decision import Decision
from ledger.domain.common import dated
from ledger.entry import LogEntry
from ledger.errors import InvalidInput, NotFound, RuleViolation
from ledger.event_types import EventType, register
from ledger.payload_types import payload_type, required, specs_of

REASON_CODES = ("duplicate", "wrong_amount", "wrong_party", "wrong_worker", "data_entry_error", "other")
# The reversible types, in the order a refusal lists them.
REVERSIBLE_TYPES = ("pledge.made", "donation.received", "amil.set_aside", "disbursement.made", "premium.paid",
                    "worker.enrolled", "claim.approved", "claim.paid")


@dataclass(frozen=True)
class ReversalRule:
    """How one type is reversed: the reference a reversal names (a declared payload type), the
    kind of organisation that reverses it (its author's), and the rule."""

    reference: type
    reversed_by: str
    rule: Callable[[Decision, LogEntry], None]

    def __call__(self, decision: Decision, entry: LogEntry) -> None:
        self.rule(decision, entry)


REVERSAL_RULES: dict[str, ReversalRule] = {}
_REFERENCE_TYPES: dict[frozenset[str], type] = {}  # a reference's field names -> its declaration


def reversal_rule(reverses: str, reference: type, reversed_by: str):
    """Register the decorated function as the rule for reversing `reverses`."""
    assert reverses in REVERSIBLE_TYPES and reverses not in REVERSAL_RULES, reverses
    names = frozenset(specs_of(reference)[0])
    assert _REFERENCE_TYPES.setdefault(names, reference) is reference, "a reference's fields name its type"

    def register_rule(rule: Callable[[Decision, LogEntry], None]) -> Callable[[Decision, LogEntry], None]:
        REVERSAL_RULES[reverses] = ReversalRule(reference, reversed_by, rule)
        return rule

    return register_rule


class _References(Mapping):
    """Each reversible type -> (the fields its reference names, who may reverse it), read from
    REVERSAL_RULES (the docs test and the docs' table read this)."""

    def __getitem__(self, name: str) -> tuple[dict, str]:
        rule = REVERSAL_RULES[name]
        return specs_of(rule.reference)[0], rule.reversed_by

    def __iter__(self) -> Iterator[str]:
        return iter(REVERSAL_RULES)

    def __len__(self) -> int:
        return len(REVERSAL_RULES)


REFERENCES: Mapping[str, tuple[dict, str]] = _References()


def _reference(value: dict) -> object:
    """A checked reference decoded into its declaration, found by the fields it names."""
    return _REFERENCE_TYPES[frozenset(value)](**value)


@payload_type
class EntryReversed:
    programme: str = required(fields.identifier)
    entry: int = required(fields.integer(0, 2**48))
    reverses: str = required(fields.one_of(*REVERSIBLE_TYPES))
    reference: object = required(lambda value, field: value, _reference)  # checked below, by `reverses`
    reason_code: str = required(fields.one_of(*REASON_CODES))
    note: str = required(fields.text(500))


_SPEC, _OPTIONAL = specs_of(EntryReversed)


def _check_payload(payload: dict, where: str) -> None:
    fields.check_payload(payload, where, _SPEC, _OPTIONAL)
    reference = payload["reference"]
    if not isinstance(reference, dict):
        raise InvalidInput("must be an object", field=f"{where}.reference")
    fields.check_payload(reference, f"{where}.reference", specs_of(REVERSAL_RULES[payload["reverses"]].reference)[0])


def same_author(index: int, recorded_by: str, entry: LogEntry) -> None:
    """The reversal names the entry that made the state, and its author signs the reversal."""
    reversal = entry.values
    if index != reversal.entry:
        raise RuleViolation(f"the {reversal.reverses} event named is entry {index}", field="payload.entry")
    if recorded_by != entry.actor:
        raise RuleViolation(f"entry {index} was signed by {recorded_by}; only its author may reverse it",
                            field="payload.entry")


def exists(state: object, what: str) -> None:
    """The state a reversal names exists and was not reversed already."""
    if state is None or getattr(state, "reversed", False):
        raise NotFound(f"no such {what}, or it was reversed already", field=f"payload.reference.{what}")


def _reverse(decision: Decision, entry: LogEntry) -> None:
    REVERSAL_RULES[entry.values.reverses](decision, entry)


register(EventType("entry.reversed", frozenset({"company", "baznas", "bpjs"}), _check_payload, dated(_reverse),
                   "Reverses one of the actor's own earlier events, with a reason code.", None, EntryReversed))
