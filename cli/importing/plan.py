"""The dry run of an import: a file read into rows, each row into the payload the ledger will
receive, each payload checked by its registered event type, every refusal tied to a row and a
column. A plan stores nothing; `submission` signs it when every row was accepted."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cli.importing.values import CellError
from api.spreadsheets import Cell, Refusal
from ledger.client import Signer
from ledger.errors import LedgerError
from ledger.event_types import lookup

import ledger.domain  # noqa: F401  (registers the event types whose checks the dry run runs)

ENVELOPE_FIELD = re.compile(r"envelopes\[(\d+)\]\.payload(?:\.(.*))?")
PERSONAL_FIELD = re.compile(r"personal\.(\d+)(?:\.(\w+))?")
SOURCE_FIELD = re.compile(r"(sources|funders)\[(\d+)\](?:\.(\w+))?")


@dataclass(frozen=True)
class Column:
    """A value of the file: a column (one value per row) or a setting (one for the file). A
    column's value may also be given once, as a setting of the same name, for every row."""

    name: str
    parse: Callable[[Cell], object]
    required: bool
    help: str
    example: str
    default: object = None


@dataclass
class Planned:
    """One event the import will submit, and the rows it came from."""

    type: str
    occurred_at: str
    payload: dict
    row: int | None                       # None for a header built from the settings
    source_rows: list[int] = field(default_factory=list)  # a disbursement's sources, in order
    personal: dict | None = None


@dataclass
class Plan:
    kind: str
    file_name: str
    sha256: str
    idempotency_key: str
    rows: int = 0
    events: list[Planned] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    refused_rows: set[int] = field(default_factory=set)
    totals: dict = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return not self.refusals and bool(self.events)

    def refuse(self, row: int | None, column: str | None, reason: str, cell: str | None = None) -> None:
        self.refusals.append(Refusal(row, column, reason, cell))
        if row is not None:
            self.refused_rows.add(row)

    def check(self, event: Planned) -> bool:
        """Run the event type's own payload check; a failure is refused at its row and column."""
        try:
            lookup(event.type, "type").check_payload(event.payload, "payload")
            return True
        except LedgerError as error:
            refusal = self.locate(event, (error.field or "payload").removeprefix("payload").lstrip("."),
                                  error.detail)
            self.refuse(refusal.row, refusal.column, refusal.reason)
            return False

    def locate(self, event: Planned, payload_field: str, reason: str) -> Refusal:
        source = SOURCE_FIELD.match(payload_field)
        if source and event.source_rows and int(source.group(2)) < len(event.source_rows):
            return Refusal(event.source_rows[int(source.group(2))], source.group(3) or source.group(1), reason)
        return Refusal(event.row, payload_field or None, reason)

    def explain(self, error: LedgerError) -> Refusal:
        """The row and column of a refusal the ledger gave at submit time."""
        where = error.field or ""
        envelope, personal = ENVELOPE_FIELD.fullmatch(where), PERSONAL_FIELD.fullmatch(where)
        match = envelope or personal
        if match and int(match.group(1)) < len(self.events):
            event = self.events[int(match.group(1))]
            return self.locate(event, match.group(2) or "", f"{error.detail} ({error.code})")
        if error.index is not None and 0 <= error.index < len(self.events) and where.startswith("payload"):
            return self.locate(self.events[error.index], where.removeprefix("payload").lstrip("."),
                               f"{error.detail} ({error.code})")
        return Refusal(None, where or None, f"{error.detail} ({error.code})")

    def submission(self, signer: Signer) -> dict:
        """The signed submission: every event in one batch, all or nothing."""
        assert self.accepted, "only a plan without refusals is signed"
        document = signer.submission(self.idempotency_key, [(event.type, event.occurred_at, event.payload)
                                                             for event in self.events])
        personal = {str(position): event.personal for position, event in enumerate(self.events) if event.personal}
        if personal:
            document["personal"] = personal
        return document

    def report(self) -> dict:
        """What a person reads before submitting: counts, refusals by row, totals."""
        return {"kind": self.kind, "file": self.file_name, "sha256": self.sha256,
                "idempotency_key": self.idempotency_key, "rows": self.rows,
                "rows_accepted": self.rows - len(self.refused_rows),
                "rows_refused": len(self.refused_rows), "events": len(self.events) if not self.refusals else 0,
                "refusals": [refusal.as_dict() for refusal in sorted(
                    self.refusals, key=lambda refusal: (refusal.row or 0, refusal.column or ""))],
                "totals": self.totals}


def file_digest(data: bytes, kind: str, options: dict[str, str]) -> tuple[str, str]:
    """(SHA-256 of the file, the idempotency key): the same file with the same options gives
    the same key, so submitting it again returns the original entries."""
    sha256 = hashlib.sha256(data).hexdigest()
    if not options:
        return sha256, f"import-{kind}-{sha256}"
    with_options = hashlib.sha256(f"{sha256}\n{json.dumps(options, sort_keys=True)}".encode()).hexdigest()
    return sha256, f"import-{kind}-{with_options}"


def parse_row(plan: Plan, columns: tuple[Column, ...], cells: dict[str, Cell], settings: dict[str, Cell],
              number: int) -> dict | None:
    """The row's values by column name (a setting of the same name fills an empty cell), or None
    after refusing every bad cell."""
    values, good = {}, True
    for column in columns:
        cell = cells.get(column.name) or settings.get(column.name)
        if cell is not None and cell.refused:
            good = False
            continue
        if cell is None or not cell.text:
            if column.required:
                plan.refuse(number, column.name, "is empty")
                good = False
            elif column.default is not None:
                values[column.name] = column.default
            continue
        try:
            values[column.name] = column.parse(cell)
        except CellError as error:
            plan.refuse(number, column.name, str(error), cell.place if "cell " not in str(error) else None)
            good = False
    return values if good else None


def parse_settings(plan: Plan, settings_spec: tuple[Column, ...], settings: dict[str, Cell]) -> dict | None:
    """The file-wide values, or None after refusing a missing or bad one."""
    values, good = {}, True
    for column in settings_spec:
        cell = settings.get(column.name)
        if cell is not None and cell.refused:
            good = False
            continue
        if cell is None or not cell.text:
            if column.required:
                plan.refuse(None, column.name, "is missing: give it as a setting row at the top of the file "
                            f"(`{column.name} | value`) or as --{column.name.replace('_', '-')}")
                good = False
            continue
        try:
            values[column.name] = column.parse(cell)
        except CellError as error:
            plan.refuse(cell.row or None, column.name, str(error), cell.place)
            good = False
    return values if good else None


def first_row(seen: dict, key: object, number: int) -> int | None:
    """The row where `key` was seen before, or None (and remember this row)."""
    earlier = seen.get(key)
    if earlier is None:
        seen[key] = number
    return earlier


def at_midnight(day: str) -> str:
    """The envelope's occurred_at for a date in the file: fixed by the file, so a retry signs
    the same bytes."""
    return f"{day}T00:00:00Z"
