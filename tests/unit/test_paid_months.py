"""A worker restored from its snapshot keeps its paid months encoded until a rule reads a month's
details (ledger/domain/paid_months.py), and behaves as the worker replayed from its events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import ledger.domain  # noqa: F401  (registers the workers' snapshot codec)
from ledger.domain import worker_snapshot
from ledger.domain.paid_months import PaidMonth, PaidMonths
from ledger.domain.workers import Membership, Worker


def _month(month_text: str, index: int) -> PaidMonth:
    return PaidMonth("p-2025", f"d-{month_text}", f"b-{month_text}", 16_800, index, "bpjs", f"{month_text}-10", index - 1)


def _worker(months: dict[str, PaidMonth]) -> Worker:
    now = datetime.now(UTC)
    worker = object.__new__(Worker)
    vars(worker).update(_id=uuid.uuid4(), _version=len(months) + 1, _created_on=now, _modified_on=now,
                        _pending_events=[], reference="a" * 64, death_claim=None, paid=PaidMonths(),
                        memberships={"p-2025": Membership("p-2025", "bpu", "Sunter", 1_000_000, True, "2025-01-02",
                                                          "2025-01-02", 3, "bpjs")})
    for month_text, paid in months.items():
        worker.paid[month_text] = paid
    return worker


def _restored(worker: Worker) -> Worker:
    return worker_snapshot.decode(worker.id, worker.version, worker_snapshot.encode(worker))


def test_a_restored_worker_answers_cover_without_decoding_its_months():
    months = {f"2025-{month:02d}": _month(f"2025-{month:02d}", 10 * month) for month in range(1, 13)}
    months["2025-04"].reversed = True
    months["2025-05"].refunded_at = 99
    restored = _restored(_worker(months))
    assert [restored.covered(f"2025-{month:02d}") for month in range(1, 13)] == [
        month not in (4, 5) for month in range(1, 13)]
    assert not restored.covered("2026-01")
    assert restored.paid._encoded is not None  # nothing decoded yet
    assert restored.paid == months and list(restored.paid) == list(months)  # details on first use


def test_months_paid_after_a_restore_join_the_encoded_ones_in_the_next_snapshot():
    months = {f"2025-{month:02d}": _month(f"2025-{month:02d}", 10 * month) for month in range(1, 4)}
    months["2025-02"].reversed = True
    restored = _restored(_worker(months))
    again = _month("2025-02", 77)  # paid again after its reversal: keeps its place, as in a dict
    restored.paid["2025-02"] = again
    restored.paid["2025-04"] = _month("2025-04", 80)
    assert restored.covered("2025-02") and restored.covered("2025-04")
    twice = _restored(restored)
    assert twice.covered("2025-02") and twice.paid._encoded is not None
    expected = {**months, "2025-02": again, "2025-04": _month("2025-04", 80)}
    assert twice.paid == expected and list(twice.paid) == ["2025-01", "2025-02", "2025-03", "2025-04"]


def test_a_month_changed_after_a_restore_is_decoded_and_kept():
    restored = _restored(_worker({"2025-01": _month("2025-01", 10), "2025-02": _month("2025-02", 20)}))
    restored.paid["2025-02"].refunded_at = 50  # the refund rule's change: reads the month first
    assert not restored.covered("2025-02") and restored.covered("2025-01")
    again = _restored(restored)
    assert not again.covered("2025-02") and again.paid["2025-02"].refunded_at == 50


def test_a_worker_without_months_round_trips():
    restored = _restored(_worker({}))
    assert restored.paid == {} and not restored.covered("2025-01") and len(restored.paid) == 0


def test_the_months_of_one_batch_hold_what_the_batch_shares_once():
    """The verifier holds every worker-month of the log (about 12 per worker a year): a month's
    own cost stays near 100 bytes, not the 200 of ten fields each, and reads as all ten."""
    import tracemalloc

    count = 20_000
    header = {"programme": "p-2025", "disbursement": "d-2025-03", "batch": "b-2025-03", "recorded_by": "bpjs",
              "paid_on": "2025-03-10"}
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    months = [PaidMonth(header["programme"], header["disbursement"], header["batch"], 16_800, 1_000_001 + line,
                        header["recorded_by"], header["paid_on"], 1_000_000) for line in range(count)]
    per_month = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    assert per_month < 120, f"{per_month:.0f} bytes a month"
    last = months[-1]
    assert (last.programme, last.disbursement, last.batch, last.amount_rupiah, last.index, last.recorded_by,
            last.paid_on, last.header_index, last.reversed, last.refunded_at, last.live) == (
        "p-2025", "d-2025-03", "b-2025-03", 16_800, 1_000_000 + count, "bpjs", "2025-03-10", 1_000_000, False,
        None, True)
    last.refunded_at = 5
    assert not last.live and not months[0].refunded_at and months[0].live
    assert last != months[-2] and months[0] == PaidMonth(*[getattr(months[0], name) for name in
                                                           ("programme", "disbursement", "batch", "amount_rupiah",
                                                            "index", "recorded_by", "paid_on", "header_index")])
