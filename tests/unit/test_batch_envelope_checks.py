"""The batch parser judges later envelopes cheaply against the first (ledger/submission.py
`_like_first`); whatever it lets through must be what the field-by-field check accepts, and
every refusal must name the same field and reason as that check."""

from __future__ import annotations

import copy

import pytest

from ledger import payloads, signing
from ledger.client import Signer
from ledger.config import Settings
from ledger.domain import kernel  # noqa: F401 - registers the event types
from ledger.errors import InvalidInput
from ledger.submission import check_envelope, parse_submission
from tests.domain.conftest import PROGRAMME

ORIGIN = Settings.from_environment({}).origin
SIGNER = Signer(ORIGIN, "pt-maju-bersama", signing.generate())


def batch() -> dict:
    return SIGNER.submission("k-1", [("pledge.made", "2025-03-01T00:00:00Z", payloads.pledge(PROGRAMME, f"pl-{n}", 1))
                                     for n in range(3)])


MUTATIONS = {
    "bool sequence": lambda e: e.update(sequence=True),
    "float sequence": lambda e: e.update(sequence=2.0),
    "another origin": lambda e: e.update(ledger="example.org/other"),
    "a bad time": lambda e: e.update(occurred_at="2025-02-30T00:00:00Z"),
    "a time in another form": lambda e: e.update(occurred_at="2025-03-01 00:00:00Z"),
    "another valid time": lambda e: e.update(occurred_at="2025-03-02T00:00:00Z"),
    "a bad type": lambda e: e.update(type="Pledge"),
    "a type not a string": lambda e: e.update(type=7),
    "a payload not an object": lambda e: e.update(payload=[1]),
    "an extra field": lambda e: e.update(extra=1),
    "a missing field": lambda e: e.pop("occurred_at"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@pytest.mark.parametrize("position", [1, 2])
def test_a_later_envelope_is_refused_as_the_full_check_refuses_it(name, position):
    document = batch()
    envelope = document["envelopes"][position]
    MUTATIONS[name](envelope)
    try:
        check_envelope(copy.deepcopy(envelope), f"envelopes[{position}]", ORIGIN)
        expected = None
    except InvalidInput as error:
        expected = (type(error), error.field, str(error))
    if expected is None:
        parse_submission(document, ORIGIN)
        return
    with pytest.raises(InvalidInput) as raised:
        parse_submission(document, ORIGIN)
    assert (type(raised.value), raised.value.field, str(raised.value)) == expected


def test_an_unchanged_batch_parses():
    submission = parse_submission(batch(), ORIGIN)
    assert [len(path) for path in submission.batch_paths] == [2, 2, 1]
    assert submission.batch_proof(2)["root"] == signing.b64encode(submission.batch_root)
