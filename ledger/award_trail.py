"""What the verifier keeps of the log, as it checks it, to recompute the city's award decisions
afterwards (ledger/award_check.py) without reading the log a second time.

A decision names a checkpoint earlier than itself, so its figures are those of a prefix of the
log, known only once the decision is seen. The trail keeps the few entries the figures read
(programmes, pledges, receipts, disbursements, batch headers, refunds, reversals) whole, and
each premium line as 22 bytes in arrays (its index, batch, amount and year): replaying it costs a
few microseconds a line, where parsing the log again cost over a hundred."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

from ledger.domain.award_figures import READS, AwardAccumulator
from ledger.entry import LogEntry


class AwardTrail:
    def __init__(self) -> None:
        self.entries: list[tuple[int, LogEntry]] = []  # what the figures read but premium lines, in log order
        self.line_index, self.line_batch = array("q"), array("i")
        self.line_amount, self.line_year = array("q"), array("h")
        self.batches: list[str] = []
        self.batch_numbers: dict[str, int] = {}
        self.unreadable: tuple[int, str] | None = None  # the first entry the figures cannot read, and why
        self.position = 0  # the entry `replay` feeds (or failed to feed) last

    def feed(self, position: int, entry: LogEntry | None) -> None:
        """Keep what the award figures need of the entry at `position` (None: it did not parse)."""
        if entry is None:
            self._unreadable(position, "it does not parse")
        elif entry.type == "premium.paid":
            try:
                payload = entry.payload
                batch, amount, year = payload["batch"], payload["amount_rupiah"], int(payload["month"][:4])
                number = self.batch_numbers.get(batch)
                if number is None:
                    number = self.batch_numbers[batch] = len(self.batches)
                    self.batches.append(batch)
                self.line_amount.append(amount)
                self.line_year.append(year)
            except (LookupError, TypeError, ValueError, OverflowError) as error:
                self._unreadable(position, repr(error))
                return
            self.line_index.append(position)
            self.line_batch.append(number)
        elif entry.type in READS:
            self.entries.append((position, entry))

    def _unreadable(self, position: int, reason: str) -> None:
        if self.unreadable is None:
            self.unreadable = (position, reason)
        # a line whose year did not fit its array after its amount did: the arrays stay aligned
        del self.line_amount[len(self.line_index):], self.line_year[len(self.line_index):]

    def replay(self, accumulator: AwardAccumulator, sizes: Iterable[int]) -> Iterator[int]:
        """Feed `accumulator` the log's entries in order, yielding each of `sizes` (ascending)
        once the entries before it, and no others, have been fed."""
        entries, lines = self.entries, self.line_index
        next_entry = next_line = 0
        for size in sizes:
            while True:
                entry_at = entries[next_entry][0] if next_entry < len(entries) else size
                line_at = lines[next_line] if next_line < len(lines) else size
                if min(entry_at, line_at) >= size:
                    break
                if entry_at < line_at:
                    self.position = entry_at
                    accumulator.feed(entries[next_entry][1])
                    next_entry += 1
                else:
                    self.position = line_at
                    accumulator.premium_line(line_at, self.batches[self.line_batch[next_line]],
                                             self.line_amount[next_line], self.line_year[next_line])
                    next_line += 1
            yield size
