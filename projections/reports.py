"""Signed documents from the views: impact statements and award lists, each citing the
checkpoint (tree size and root) the views were computed at."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.documents import sign_document
from ledger.errors import ConfigurationError, LedgerError
from ledger.witness_table import cosigned
from projections.awards import award_list
from projections.periods import parse_period
from projections.queries import statement_entries, statement_figures
from projections.runner import ProjectionRunner


class Reports:
    """Produces signed statements and award lists; catches the views up first."""

    def __init__(self, ledger, runner: ProjectionRunner):
        self.ledger = ledger
        self.runner = runner
        self._signed: dict[tuple, dict] = {}  # a document cannot change until the next checkpoint

    def checkpoint(self) -> dict:
        """The signed checkpoint the views stand at."""
        position = self.runner.position()
        if position == 0:
            raise LedgerError("the views are empty: nothing has been recorded yet")
        found = self.ledger.checkpoints(position, 1)
        assert found and found[0]["tree_size"] == position, "views stop only at checkpoints"
        # The note carries the witnesses' cosignatures collected so far (docs/witnessing.md), so the
        # reader can show later that what it was told stood on a witnessed checkpoint.
        witnessed = cosigned(self.ledger, found[0])
        return {"tree_size": found[0]["tree_size"], "root": found[0]["root"], "note": witnessed["note"],
                "cosignatures": witnessed["cosignatures"]}

    def _sign(self, document: dict) -> dict:
        key = self.ledger.current_checkpoint_key()
        if key is None:
            raise ConfigurationError("no ledger key loaded to sign documents", field="AMANAH_CHECKPOINT_KEY")
        return sign_document(document, self.ledger.origin, key)

    def statement(self, company: str, period_text: str) -> dict:
        """A company's signed impact statement for a year or half-year."""
        self.runner.run()
        self.runner.require_current()
        period = parse_period(period_text)
        key = ("statement", company, period.name, self.runner.position())
        if key in self._signed:
            return self._signed[key]
        with self.runner.engine.connect() as connection:
            figures = statement_figures(connection, company, period)
            entries = statement_entries(connection, company, period)
        return self._remember(key, {"kind": "amanah/impact-statement", "version": 1, "ledger": self.ledger.origin,
                                    "checkpoint": self.checkpoint(), "generated_at": _now(), **figures,
                                    "entries": entries})

    def awards(self, year: int, criteria: dict | None = None) -> dict:
        """The city's signed award list for a year."""
        self.runner.run()
        self.runner.require_current()
        key = ("awards", year, repr(sorted((criteria or {}).items())), self.runner.position())
        if key in self._signed:
            return self._signed[key]
        with self.runner.engine.connect() as connection:
            listing = award_list(connection, year, criteria)
        return self._remember(key, {"kind": "amanah/award-list", "version": 1, "ledger": self.ledger.origin,
                                    "checkpoint": self.checkpoint(), "generated_at": _now(), **listing})

    def _remember(self, key: tuple, document: dict) -> dict:
        """Sign and keep the document for this checkpoint; older checkpoints' copies go."""
        signed = self._sign(document)
        self._signed = {old: value for old, value in self._signed.items() if old[-1] == key[-1]}
        if len(self._signed) < 1000:
            self._signed[key] = signed
        return signed


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
