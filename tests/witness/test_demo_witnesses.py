"""The demo's city and auditor witnesses cosign the checkpoint the demo ends on."""

from __future__ import annotations

import time

from cli.demo.witnesses import witness_demo
from ledger.witness_policy import WitnessPolicy, check_witnessed
from ledger.witness_table import cosigned


def test_the_demo_checkpoint_carries_both_cosignatures(world):
    facts = witness_demo(world.settings.home, world.ledger, world.checkpoint_key)
    assert [item["outcome"] for item in facts] == ["cosigned", "cosigned"]
    latest = cosigned(world.ledger, world.ledger.latest_checkpoint())
    policy = WitnessPolicy(tuple(item["verifier_key"] for item in facts), 2, max_age_seconds=600)
    assert len(check_witnessed(latest["note"], policy, time.time())) == 2
    assert (world.settings.home / "witnesses" / "auditor" / "witness.json").is_file()
