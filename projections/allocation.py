"""Largest-remainder allocation: split whole rupiah pro rata so the parts always sum exactly."""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (non-negative, not all zero).

    Each part gets floor(total * w / W); the rupiah left over go one each to the parts with
    the largest remainders, earlier parts first on ties, so the result is deterministic.
    """
    weight_sum = sum(weights)
    assert weight_sum > 0 and all(weight >= 0 for weight in weights), weights
    floors = [total * weight // weight_sum for weight in weights]
    remainders = [total * weight % weight_sum for weight in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda position: (-remainders[position], position))
    for position in order[:left]:
        floors[position] += 1
    return floors
