"""Signed documents from the views: impact statements and award lists, each citing the
checkpoint (tree size and root) the views were computed at."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.documents import sign_document
from ledger.domain.award_year import Published, award_uuid
from ledger.domain.awards import DEFAULT_CRITERIA, Ranked, criteria_of, decision_differences
from ledger.entry import parse_stored_entry
from ledger.errors import ConfigurationError, Unavailable
from ledger.witness_table import cosigned
from projections.awards import award_list
from projections.periods import parse_period
from projections.queries import organisation_names, statement_entries, statement_figures
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
            raise Unavailable("the views are empty: nothing has been recorded yet")
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

    def awards(self, year: int) -> dict:
        """The award list for a year, signed by the ledger: under the criteria of the city's
        decision in force, else its newest published criteria, else the defaults (said so); with
        the decision (who decided, when, its signature) and how it compares with today's figures."""
        self.runner.run()
        self.runner.require_current()
        key = ("awards", year, self.runner.position())
        if key in self._signed:
            return self._signed[key]
        award = self.ledger.aggregate(award_uuid(year))
        decided = award.decisions[-1] if award is not None and award.decisions else None
        published = _criteria_in_force(award, decided)
        criteria = criteria_of(published.payload) if published else DEFAULT_CRITERIA
        with self.runner.engine.connect() as connection:
            listing = award_list(connection, year, criteria)
            names = organisation_names(connection)
        document = {"kind": "amanah/award-list", "version": 2, "ledger": self.ledger.origin,
                    "checkpoint": self.checkpoint(), "generated_at": _now(), **listing,
                    "criteria_source": self._provenance(published, names, "published_on"),
                    "decision": self._decision(decided, listing, names)}
        return self._remember(key, document)

    def award_preview(self, year: int, criteria: dict | None = None) -> dict:
        """What the award list would be now (a dry run, not signed): under `criteria` if given,
        else the city's newest published criteria, else the defaults."""
        self.runner.run()
        self.runner.require_current()
        award = self.ledger.aggregate(award_uuid(year))
        published = award.criteria[-1] if award is not None and award.criteria else None
        if criteria is None and published is not None:
            criteria = criteria_of(published.payload)
        with self.runner.engine.connect() as connection:
            listing = award_list(connection, year, criteria)
        checkpoint = self.checkpoint()
        return {"kind": "amanah/award-preview", "preview": True, "year": year,
                "checkpoint": {"tree_size": checkpoint["tree_size"], "root": checkpoint["root"]},
                "criteria_entry": published.entry if published is not None and criteria == criteria_of(
                    published.payload) else None, **listing}

    def _provenance(self, published: Published | None, names: dict, dated: str) -> dict | None:
        """Who signed an award event, when, and its signature as it stands in the log."""
        if published is None:
            return None
        (_, leaf), = self.ledger.entries(published.entry, 1)
        entry = parse_stored_entry(leaf)
        return {"entry": published.entry, "signed_by": entry.actor, "legal_name": names.get(entry.actor, entry.actor),
                "on": published.payload[dated], "recorded_at": entry.recorded_at, "key_id": entry.key_id,
                "signature": entry.signature, "batch_root": (entry.batch or {}).get("root")}

    def _decision(self, decided: Published | None, listing: dict, names: dict) -> dict | None:
        if decided is None:
            return None
        payload = decided.payload
        now = [Ranked(item["rank"], item["company"], item["tier"]) for item in listing["awarded"]]
        reasons = {item["company"]: item["reasons"] for item in listing["not_awarded"]}
        return {**self._provenance(decided, names, "decided_on"), "year": payload["year"],
                "criteria_entry": payload["criteria_entry"], "checkpoint": payload["checkpoint"],
                "awarded": [{**item, "legal_name": names.get(item["company"], item["company"])}
                            for item in payload["awarded"]],
                "not_awarded": payload["not_awarded"], "supersedes": payload.get("supersedes"),
                "reason": payload.get("reason"),
                "differences_from_current_figures": decision_differences(payload, now, reasons)}

    def _remember(self, key: tuple, document: dict) -> dict:
        """Sign and keep the document for this checkpoint; older checkpoints' copies go."""
        signed = self._sign(document)
        self._signed = {old: value for old, value in self._signed.items() if old[-1] == key[-1]}
        if len(self._signed) < 1000:
            self._signed[key] = signed
        return signed


def _criteria_in_force(award, decided: Published | None) -> Published | None:
    """The criteria the decision in force applied, else the newest published, else None."""
    if award is None or not award.criteria:
        return None
    if decided is not None:
        return next(item for item in award.criteria if item.entry == decided.payload["criteria_entry"])
    return award.criteria[-1]


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
