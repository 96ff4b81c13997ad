"""Which company's money paid each premium line: pure functions that the writer's rules, the
views and the offline verifier all call, so a signed figure can be recomputed from the log.

A disbursement names its sources (receipt, company, amount). Its sources are taken in receipt
order. A premium batch's total is split among the sources pro rata to what each has left
(largest remainder), so each company's share of every batch is exact in whole rupiah; the
batch's lines are then funded from those quotas in source order, so a worker-month belongs to
one company except at a quota boundary, where a line is split between two. A refund of premium
lines (reversals under a `premium.refund` header) gives capacity back to the sources pro rata
to what each was charged."""

from __future__ import annotations

from collections.abc import Sequence

Share = tuple[str, str, int]  # (receipt, company, amount_rupiah)


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (non-negative, not all zero).

    Each part gets floor(total * w / W); the rupiah left over go one each to the parts with
    the largest remainders, earlier parts first on ties, so the result is deterministic."""
    weight_sum = sum(weights)
    assert weight_sum > 0 and all(weight >= 0 for weight in weights), weights
    floors = [total * weight // weight_sum for weight in weights]
    remainders = [total * weight % weight_sum for weight in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda position: (-remainders[position], position))
    for position in order[:left]:
        floors[position] += 1
    return floors


def ordered_sources(sources: Sequence[Share]) -> list[Share]:
    """A disbursement's sources in the order attribution takes them: by receipt id."""
    return sorted(sources)


def batch_quotas(sources: Sequence[Share], charged: Sequence[int], total: int) -> list[int]:
    """Each source's part of a new premium batch of `total`, pro rata to what it has left
    (`sources` ordered, `charged[i]` what earlier batches took from source i)."""
    capacity = [max(amount - used, 0) for (_, _, amount), used in zip(sources, charged, strict=True)]
    return largest_remainder(total, capacity) if sum(capacity) else [0] * len(sources)


def refund_release(charged: Sequence[int], total: int) -> list[int]:
    """What a premium refund of `total` gives back to each source, pro rata to its charges."""
    return largest_remainder(total, charged) if sum(charged) else [0] * len(charged)


def take(quotas_left: list[list], amount: int) -> tuple[Share, ...]:
    """Fund one line of `amount` from the batch's quotas ([receipt, company, left] in source
    order, changed in place): whole lines go to one company, a line at a boundary is split."""
    shares, left = [], amount
    for quota in quotas_left:
        if left == 0:
            break
        portion = min(left, quota[2])
        if portion:
            shares.append((quota[0], quota[1], portion))
            quota[2] -= portion
            left -= portion
    assert left == 0, "a premium line exceeds its batch's quotas (the control totals prevent this)"
    return tuple(shares)


def primary_funder(shares: Sequence[Share]) -> str:
    """The company that paid the larger part of a line (the earlier one on a tie): the
    worker-month is counted for it, so worker-months add up across companies."""
    best = max(range(len(shares)), key=lambda position: (shares[position][2], -position))
    return shares[best][1]


def line_funders(quotas: Sequence[Share], amounts: Sequence[int]) -> tuple[Share, ...]:
    """The funders of the last of `amounts`, the batch's line amounts in order up to that line."""
    left = [list(quota) for quota in quotas]
    for amount in amounts[:-1]:
        take(left, amount)
    return take(left, amounts[-1])


class Attribution:
    """The attribution rule applied to entries in log order: feed it every entry (or just the
    ones it reads: disbursements, premium batch and refund headers, premium lines, reversals of
    disbursements) and it returns each premium line's shares.

    Its state is plain data, so a reader that persists it (the views) can restore it:
    `sources[d]` a disbursement's sources in order, `charged[d]` what batches took from each,
    `quotas[b]` what is left of a batch's quotas. `touched_*` name what changed since the
    caller last cleared them."""

    def __init__(self) -> None:
        self.sources: dict[str, list[Share]] = {}
        self.charged: dict[str, list[int]] = {}
        self.quotas: dict[str, list[list]] = {}
        self.touched_disbursements: set[str] = set()
        self.touched_batches: set[str] = set()

    def feed(self, entry_type: str, payload: dict) -> tuple[Share, ...] | None:
        """Apply one entry; a `premium.paid` line returns its shares, anything else None."""
        if entry_type == "premium.paid":
            return self.line(payload["batch"], payload["amount_rupiah"])
        if entry_type == "disbursement.made":
            name = payload["disbursement"]
            self.sources[name] = ordered_sources([(source["receipt"], source["company"], source["amount_rupiah"])
                                                  for source in payload["sources"]])
            self.charged[name] = [0] * len(self.sources[name])
            self.touched_disbursements.add(name)
        elif entry_type == "premium.batch":
            self._charge(payload["disbursement"], payload["batch"], payload["total_rupiah"])
        elif entry_type == "premium.refund":
            name = payload["disbursement"]
            released = refund_release(self.charged[name], payload["total_rupiah"])
            self.charged[name] = [used - back for used, back in zip(self.charged[name], released, strict=True)]
            self.touched_disbursements.add(name)
        elif entry_type == "entry.reversed" and payload.get("reverses") == "disbursement.made":
            name = payload["reference"]["disbursement"]
            self.sources.pop(name, None)  # nothing was charged to it (the rules refuse otherwise)
            self.charged.pop(name, None)
        return None

    def line(self, batch: str, amount_rupiah: int) -> tuple[Share, ...]:
        """A premium line of `batch`: its shares, taken from the batch's quotas."""
        self.touched_batches.add(batch)
        return take(self.quotas[batch], amount_rupiah)

    def _charge(self, disbursement: str, batch: str, total: int) -> None:
        sources, charged = self.sources[disbursement], self.charged[disbursement]
        quotas = batch_quotas(sources, charged, total)
        self.charged[disbursement] = [used + quota for used, quota in zip(charged, quotas, strict=True)]
        self.quotas[batch] = [[receipt, company, quota] for (receipt, company, _), quota
                              in zip(sources, quotas, strict=True)]
        self.touched_disbursements.add(disbursement)
        self.touched_batches.add(batch)
