"""A reader's witness policy: accept a checkpoint only with K valid cosignatures from witnesses
the reader chose, recent enough (`amanah verify --witness KEY ... --quorum K`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger import note
from ledger.errors import InvalidInput, LedgerError, Unavailable
from ledger.witness import Cosignature, find_cosignature, parse_cosigner_key

FUTURE_SKEW_S = 300  # a witness's clock may run a little ahead of the reader's


class NotWitnessed(Unavailable):
    """A checkpoint lacks the cosignatures the reader's policy asks for. Not the reader's bad
    input: the witnesses may not have answered yet (unreachable, slow), so it can change later."""

    code = "not-witnessed"


@dataclass(frozen=True)
class WitnessPolicy:
    witnesses: tuple[str, ...]  # cosigner verifier keys (type 0x04)
    quorum: int
    max_age_seconds: float | None = None

    def __post_init__(self) -> None:
        for key in self.witnesses:
            parse_cosigner_key(key, field="witness")
        if len(set(self.witnesses)) != len(self.witnesses):
            raise InvalidInput("a witness key is listed twice", field="witness")
        if not 1 <= self.quorum <= len(self.witnesses):
            raise InvalidInput(f"the quorum is 1..{len(self.witnesses)} (the number of listed witnesses)",
                               field="quorum")
        if self.max_age_seconds is not None and self.max_age_seconds <= 0:
            raise InvalidInput("the maximum cosignature age is a positive number of seconds",
                               field="max_cosignature_age")


def check_witnessed(note_text: str, policy: WitnessPolicy, now: float) -> list[Cosignature]:
    """The valid, recent cosignatures by listed witnesses; NotWitnessed if fewer than the quorum.
    Lines by other keys are ignored, as signed-note requires."""
    checkpoint = note.parse_checkpoint(note_text)
    accepted, reasons = [], []
    for key in policy.witnesses:
        name = key.split("+", 1)[0]
        found = find_cosignature(checkpoint, key)
        if found is None:
            reasons.append(f"{name}: no valid cosignature over this checkpoint")
        elif found.timestamp > now + FUTURE_SKEW_S:
            reasons.append(f"{name}: cosigned in the future ({found.timestamp})")
        elif policy.max_age_seconds is not None and now - found.timestamp > policy.max_age_seconds:
            reasons.append(f"{name}: cosigned {int(now - found.timestamp)} s ago, over the "
                           f"{policy.max_age_seconds:g} s allowed")
        else:
            accepted.append(found)
    if len(accepted) < policy.quorum:
        raise NotWitnessed(f"checkpoint {checkpoint.size} has {len(accepted)} of the {policy.quorum} "
                           f"cosignatures the policy needs ({'; '.join(reasons)})", field="witness")
    return accepted


def bundle_witness_failure(directory: Path, policy: WitnessPolicy, now: float,
                           checked_notes: Sequence[str]) -> str | None:
    """What is wrong with the witnessing of a bundle's newest checkpoint, or None: its entry in
    cosignatures.jsonl must be the newest checkpoint (same body) with a quorum under `policy`."""
    if not checked_notes:
        return "the bundle has no checkpoint to witness"
    newest = note.parse_checkpoint(checked_notes[-1])
    path = Path(directory) / "cosignatures.jsonl"
    try:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        return f"cosignatures.jsonl unreadable: {error}"
    row = next((row for row in rows if isinstance(row, dict) and row.get("tree_size") == newest.size), None)
    if row is None or not isinstance(row.get("note"), str):
        return f"the newest checkpoint (size {newest.size}) has no cosignatures in the bundle"
    try:
        if note.parse_checkpoint(row["note"]).body != newest.body:
            return f"the cosigned note at size {newest.size} is not the log's checkpoint (another root?)"
        check_witnessed(row["note"], policy, now)
    except LedgerError as error:
        return error.detail
    return None


def check_database_witnesses(ledger, policy: WitnessPolicy, report, now: float | None = None) -> None:
    """`verify --db`: the newest checkpoint, with the cosignatures the ledger collected, must meet
    the policy; a shortfall is a verification failure in `report`."""
    import time

    from ledger.verify import Failure
    from ledger.witness_table import cosigned

    latest = cosigned(ledger, ledger.latest_checkpoint())
    try:
        if latest is None:
            raise NotWitnessed("the ledger has no checkpoint")
        check_witnessed(latest["note"], policy, time.time() if now is None else now)
    except NotWitnessed as error:
        report.failures.append(Failure(None, "witness", error.detail))
        report.failure_count += 1
