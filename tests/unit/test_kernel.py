"""The domain kernel in memory: given events, when a command, then events or a named refusal;
and the writer and the offline verifier refuse the same thing in the same words."""

from __future__ import annotations

import pytest

from ledger import payloads, signing
from ledger.client import Signer
from ledger.entry import build_entry
from ledger.errors import LedgerError, NotPermitted, UnknownActor
from ledger.submission import read_submission
from ledger.verify import Verifier
from tests.kernel import kernel_world  # noqa: F401

PROGRAMME = "sertakan-jakut-2025"


def test_a_pledge_after_its_programme_is_one_new_entry(kernel_world):  # noqa: F811
    world = kernel_world
    city = world.register("pemkot-jakarta-utara", "city")
    world.ledger.submit(city.one("open", "programme.opened", "2025-01-02T08:00:00Z",
                                 payloads.programme_opened(PROGRAMME, 2025)))
    before = world.ledger.size()
    result = world.ledger.submit(world.company.one("p-1", "pledge.made", "2025-01-03T08:00:00Z",
                                                   payloads.pledge(PROGRAMME, "pl-1", 5_000_000)))
    assert (result["first_index"], result["count"]) == (before, 1)
    assert [entry.type for entry in world.ledger.log[before:]] == ["pledge.made"]
    assert world.ledger.verify().ok


def test_a_refused_command_names_the_rule_and_adds_nothing(kernel_world):  # noqa: F811
    world = kernel_world
    before = world.ledger.size(), sum(len(events) for events in world.ledger.events.values())
    with pytest.raises(NotPermitted) as caught:
        world.ledger.submit(world.company.one("open", "programme.opened", "2025-01-02T08:00:00Z",
                                              payloads.programme_opened(PROGRAMME, 2025)))
    assert (caught.value.field, caught.value.detail) == ("envelopes[0].type", "a company may not emit programme.opened")
    assert (world.ledger.size(), sum(len(events) for events in world.ledger.events.values())) == before


def test_the_verifier_refuses_an_unregistered_signer_in_the_writers_words(kernel_world):  # noqa: F811
    world = kernel_world
    stranger = Signer(world.settings.origin, "stranger", signing.generate())
    document = stranger.one("p-1", "pledge.made", "2025-01-03T08:00:00Z", payloads.pledge(PROGRAMME, "pl-1", 1))
    with pytest.raises(UnknownActor) as refused:
        world.ledger.submit(document)

    submission = read_submission(document, world.settings.origin)
    size = world.ledger.size()
    forged = build_entry(size, world.ledger.log[-1].recorded_at, submission.envelopes[0],
                         submission.envelope_bytes[0], signing.b64encode(submission.signature), None)
    verifier = Verifier()
    for entry in [*world.ledger.log, forged]:
        verifier.feed(entry.index, entry.leaf)
    details = [failure.detail for failure in verifier.finish().failures if failure.check == "signature"]
    assert details == [str(LedgerError(refused.value.detail, field="actor"))]
