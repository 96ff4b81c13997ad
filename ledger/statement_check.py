"""`amanah verify BUNDLE --statement FILE`: check a signed impact statement without the server.

The bundle is verified as usual; while its entries stream past, the company's figures for the
statement's period are recomputed from the first `checkpoint.tree_size` entries by the pure
accumulator (ledger/domain/statements.py), and the root of those entries is kept. Then:
the statement's signature is checked with one of the ledger's checkpoint keys, the checkpoint
it cites is checked (signed by the key in force for its size, the same size and root as the
bundle's first tree_size entries), and every figure that differs is named with the stated and
the recomputed value."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger import note, signing
from ledger.documents import verify_document
from ledger.domain.periods import parse_period
from ledger.domain.statements import StatementAccumulator
from ledger.entry import LogEntry
from ledger.errors import InvalidInput, LedgerError
from ledger.verify import Verifier
from ledger.witness_policy import WitnessPolicy, check_witnessed

DOCUMENT_KEYS = frozenset({"kind", "version", "ledger", "checkpoint", "generated_at", "entries", "signature"})
MAX_STATEMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Difference:
    figure: str
    stated: Any
    recomputed: Any

    def __str__(self) -> str:
        return f"{self.figure}: stated {json.dumps(self.stated)}, recomputed {json.dumps(self.recomputed)}"


@dataclass
class StatementCheck:
    """Follows a verifier over the bundle and judges one statement at the end."""

    statement: dict
    problems: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    verifier: Verifier | None = None
    root_at_size: bytes | None = None
    broken_at: int | None = None
    witness_policy: WitnessPolicy | None = None  # the cosignatures its checkpoint must carry

    def __post_init__(self) -> None:
        checkpoint = self.statement.get("checkpoint")
        company = self.statement.get("company")
        if self.statement.get("kind") != "amanah/impact-statement" or not isinstance(checkpoint, dict) \
                or not isinstance(checkpoint.get("tree_size"), int) or not isinstance(company, dict) \
                or not isinstance(company.get("organisation"), str):
            raise InvalidInput("not an impact statement (kind amanah/impact-statement, with checkpoint.tree_size "
                               "and company.organisation)", field="statement")
        self.size = checkpoint["tree_size"]
        self.accumulator = StatementAccumulator(company["organisation"],
                                                parse_period(self.statement.get("period"), "statement.period"))

    def watch(self, verifier: Verifier) -> None:
        """Give to verify_bundle(watch=...): feeds the accumulator as entries are checked."""
        self.verifier = verifier
        verifier.on_entry = self._entry

    def _entry(self, position: int, entry: LogEntry | None) -> None:
        if position >= self.size or self.broken_at is not None:
            return
        try:
            if entry is None:
                raise InvalidInput("the entry does not parse")
            self.accumulator.feed(entry)
        except (LedgerError, LookupError, TypeError, ValueError, AssertionError) as error:
            self.broken_at = position
            self.problems.append(f"cannot recompute the figures past entry {position}: {error!r}")
        if position + 1 == self.size:
            self.root_at_size = self.verifier.current_root()

    def finish(self) -> bool:
        """After the bundle was verified: True when the statement is genuine and every figure matches."""
        assert self.verifier is not None, "watch() the verifier first"
        entries = self.verifier.report.entries
        if self.size < 1 or self.size > entries:
            self.problems.append(f"the statement cites checkpoint {self.size}, the bundle holds {entries} entries")
        self._check_signature()
        self._check_checkpoint()
        self._check_witnessed()
        if not self.problems:
            self._compare()
        return not self.problems and not self.differences

    def _check_witnessed(self) -> None:
        """The checkpoint the statement stands on carries the cosignatures the policy asks for.
        A statement is kept for years, so the cosignatures' age is not limited here."""
        if self.witness_policy is None:
            return
        try:
            check_witnessed(str(self.statement["checkpoint"].get("note", "")),
                            replace(self.witness_policy, max_age_seconds=None), time.time())
        except LedgerError as error:
            self.problems.append(f"witnesses: {error.detail}")

    def _check_signature(self) -> None:
        signature = self.statement.get("signature")
        stated_key = signature.get("verifier_key") if isinstance(signature, dict) else None
        keys = [verifier_key for _, verifier_key, _ in self.verifier.checkpoint_keys]
        if stated_key not in keys:
            self.problems.append("signature: the statement is not signed with one of the ledger's checkpoint keys")
            return
        try:
            verify_document(self.statement, stated_key)
        except LedgerError as error:
            self.problems.append(f"signature: {error} (the statement was changed after it was signed)")

    def _check_checkpoint(self) -> None:
        checkpoint = self.statement["checkpoint"]
        in_force = [key for key in self.verifier.checkpoint_keys if key[0] < self.size]
        if not in_force or self.root_at_size is None:
            return
        try:
            signed = note.verify_checkpoint(str(checkpoint.get("note", "")), *in_force[-1][2])
        except LedgerError as error:
            self.problems.append(f"checkpoint: the note the statement cites is not signed by the ledger: {error}")
            return
        stated_root = checkpoint.get("root")
        if signed.size != self.size or signing.b64encode(signed.root) != stated_root:
            self.problems.append(f"checkpoint: the note signs size {signed.size}, the statement states "
                                 f"{self.size} and root {stated_root}")
        if signed.root != self.root_at_size:
            self.problems.append(f"checkpoint: the root of the bundle's first {self.size} entries is "
                                 f"{signing.b64encode(self.root_at_size)}, not the root the statement cites")

    def _compare(self) -> None:
        try:
            recomputed = self.accumulator.figures()
        except LedgerError as error:
            self.problems.append(f"cannot recompute the figures: {error}")
            return
        stated = {name: value for name, value in self.statement.items() if name not in DOCUMENT_KEYS}
        for name in sorted(set(stated) | set(recomputed)):
            _differences(name, stated.get(name, "(missing)"), recomputed.get(name, "(not a figure)"),
                         self.differences)
        self._compare_entries(self.statement.get("entries", "(missing)"), self.accumulator.entries)

    def _compare_entries(self, stated: Any, recomputed: list[list[int]]) -> None:
        """The entries the statement says it rests on are those the figures were recomputed from:
        the first range that differs is named (`entries[3]`), with how many each side lists."""
        if stated == recomputed:
            return
        if not isinstance(stated, list):
            self.differences.append(Difference("entries", stated, f"{len(recomputed)} ranges"))
            return
        at = next(position for position in range(max(len(stated), len(recomputed)))
                  if position >= len(stated) or position >= len(recomputed) or stated[position] != recomputed[position])
        self.differences.append(Difference(
            f"entries[{at}] (of {len(stated)} ranges stated, {len(recomputed)} recomputed)",
            stated[at] if at < len(stated) else "(missing)", recomputed[at] if at < len(recomputed) else "(none)"))


def _differences(path: str, stated: Any, recomputed: Any, found: list[Difference]) -> None:
    """Name each figure that differs, down to the leaf: `by_month[2025-03].worker_months`."""
    if isinstance(stated, dict) and isinstance(recomputed, dict):
        for name in sorted(set(stated) | set(recomputed), key=str):
            _differences(f"{path}.{name}", stated.get(name, "(missing)"), recomputed.get(name, "(not a figure)"),
                         found)
    elif _keyed(stated) and _keyed(recomputed):
        stated_rows = {row["month"]: row for row in stated}
        recomputed_rows = {row["month"]: row for row in recomputed}
        for month in sorted(set(stated_rows) | set(recomputed_rows)):
            _differences(f"{path}[{month}]", stated_rows.get(month, "(missing)"),
                         recomputed_rows.get(month, "(not a figure)"), found)
    elif stated != recomputed or type(stated) is not type(recomputed):
        found.append(Difference(path, stated, recomputed))


def _keyed(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(row, dict) and "month" in row for row in value)


def read_statement(path: Path) -> dict:
    """A signed statement from a JSON file (as GET .../statement or `amanah document` writes it)."""
    try:
        data = Path(path).read_bytes()
        if len(data) > MAX_STATEMENT_BYTES:
            raise ValueError(f"larger than {MAX_STATEMENT_BYTES} bytes")
        statement = json.loads(data)
    except (OSError, ValueError) as error:
        raise InvalidInput(f"{path} is not a statement file: {error}", field="statement") from error
    if not isinstance(statement, dict):
        raise InvalidInput(f"{path} holds no JSON object", field="statement")
    return statement
