"""A worker's corrected profile in the views, on SQLite and PostgreSQL: the row shows the
correction, and premiums paid after it are counted under the new category and kelurahan."""

from __future__ import annotations

from sqlalchemy import select

from projections import tables as t
from projections.runner import ProjectionRunner
from tests.domain.conftest import PROGRAMME
from tests.domain.test_claims_and_reversals import funded  # noqa: F401
from tests.niks import nik


def test_a_corrected_profile_shows_in_the_views_and_counts_for_later_premiums(funded):  # noqa: F811
    p = funded
    runner = ProjectionRunner(p.ledger, batch_size=3)
    worker = p.enrol(nik(900), category="ojek_online", kelurahan="Kelapa Gading Barat")
    p.pay("b-02", "ds-1", "2025-02", [worker])
    runner.run()  # the worker's profile is now cached by the projector
    p.submit(p.bpjs, "worker.updated", {"programme": PROGRAMME, "worker": worker, "category": "dasawisma",
                                        "kelurahan": "Kelapa Gading Timur", "reason": "keyed in error"})
    p.workers[worker]["category"] = "dasawisma"
    p.pay("b-03", "ds-1", "2025-03", [worker])
    runner.run()
    with runner.engine.connect() as connection:
        row = connection.execute(select(t.workers).where(t.workers.c.worker == worker)).one()
        premiums = connection.execute(select(t.premiums.c.month, t.premiums.c.category, t.premiums.c.kelurahan)
                                      .where(t.premiums.c.worker == worker).order_by(t.premiums.c.month)).all()
    assert (row.category, row.kelurahan, row.income_rupiah, row.jht) == (
        "dasawisma", "Kelapa Gading Timur", 1_000_000, False)
    assert [tuple(premium) for premium in premiums] == [
        ("2025-02", "ojek_online", "Kelapa Gading Barat"), ("2025-03", "dasawisma", "Kelapa Gading Timur")]
    incremental = runner.dump()
    runner.rebuild()
    assert runner.dump() == incremental
    runner.close()
