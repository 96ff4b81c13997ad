"""A premium batch's unit of work: what its header promised and what its lines added so far.

One submission holds at most one batch (or refund); the writer and the verifier hold it on the
submission's `Decision` (`decision.premium_batch`) and check its control totals at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.domain.rates import Premium, premium_for
from ledger.errors import InvalidInput, RuleViolation

PREMIUM_FIELDS = ("jkk_rupiah", "jkm_rupiah", "jht_rupiah", "amount_rupiah")  # a premium line's, in order


@dataclass
class PremiumBatchWork:
    """One submission's premium batch (or refund): the header's promise and the lines so far."""

    batch: str
    programme: str
    disbursement: str
    month: str | None
    paid_on: str | None
    refund: bool
    promised_lines: int
    promised_total_rupiah: int
    lines: int = 0
    total_rupiah: int = 0
    premiums: dict[tuple[int, str, bool], tuple[Premium, tuple[int, int, int, int]]] = field(
        default_factory=dict, repr=False)
    programme_state: Any = field(default=None, repr=False)  # the Programme its lines name (set by the first)

    @property
    def shared(self) -> tuple[str, str, str | None, str | None]:
        """What every line of the batch repeats from its header: programme, disbursement, month, paid_on."""
        return self.programme, self.disbursement, self.month, self.paid_on

    def premium(self, rules: dict, income_rupiah: int, category: str, with_jht: bool
                ) -> tuple[Premium, tuple[int, int, int, int]]:
        """`premium_for` the batch's month, worked out once per bracket, category and JHT choice
        (a batch's lines share the programme's rules and the month, checked against the header),
        with its (jkk, jkm, jht, amount) in rupiah for comparing a line's in one go."""
        key = (income_rupiah, category, with_jht)
        found = self.premiums.get(key)
        if found is None:
            premium = premium_for(rules, income_rupiah, category, self.month, with_jht)
            found = self.premiums[key] = (premium, tuple(getattr(premium, name) for name in PREMIUM_FIELDS))
        return found

    def add_line(self, amount_rupiah: int, field: str | None = None) -> None:
        """Count a line; with `field`, refuse it at once when the lines exceed the header's total."""
        self.lines += 1
        self.total_rupiah += amount_rupiah
        if field is not None and self.total_rupiah > self.promised_total_rupiah:
            raise RuleViolation(f"the lines exceed the header's total of Rp{self.promised_total_rupiah:,}",
                                field=field)

    def check_control_totals(self) -> None:
        """The lines add up to what the header promised (run once the submission is applied)."""
        if self.lines != self.promised_lines or self.total_rupiah != self.promised_total_rupiah:
            raise RuleViolation(f"the batch header promises {self.promised_lines} lines totalling "
                                f"Rp{self.promised_total_rupiah:,}; the submission holds {self.lines} "
                                f"totalling Rp{self.total_rupiah:,}", field="envelopes[0].payload")


def lines_of(work: PremiumBatchWork | None, batch: str | None, refund: bool, message: str,
             field: str) -> PremiumBatchWork:
    """The submission's batch that a line belongs to, or InvalidInput naming `field`."""
    if work is None or work.refund != refund or (batch is not None and work.batch != batch):
        raise InvalidInput(message, field=field)
    return work
