"""A programme world: city, Baznas, BPJS and two companies registered, the 2025 programme open."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ledger import payloads
from ledger.client import Signer
from ledger.personal import new_worker_reference

PROGRAMME = "sertakan-jakut-2025"


@dataclass
class Programme:
    world: object
    city: Signer
    baznas: Signer
    bpjs: Signer
    companies: dict[str, Signer]
    counter: int = 0
    workers: dict[str, dict] = field(default_factory=dict)

    @property
    def ledger(self):
        return self.world.ledger

    def key(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def submit(self, signer: Signer, event_type: str, payload: dict, occurred_at: str = "2025-06-01T08:00:00Z") -> dict:
        return self.ledger.submit(signer.one(self.key(event_type), event_type, occurred_at, payload))

    def batch(self, signer: Signer, events: list[tuple[str, dict]], personal: dict | None = None) -> dict:
        document = signer.submission(self.key("batch"), [(t, "2025-06-01T08:00:00Z", p) for t, p in events])
        if personal:
            document["personal"] = personal
        return self.ledger.submit(document)

    def pledge(self, company: str, pledge_id: str, amount: int) -> dict:
        return self.submit(self.companies[company], "pledge.made", payloads.pledge(PROGRAMME, pledge_id, amount))

    def receive(self, company: str, receipt_id: str, amount: int, pledge_id: str | None = None) -> dict:
        return self.submit(self.baznas, "donation.received",
                           payloads.receipt(PROGRAMME, receipt_id, company, amount, "2025-02-03", pledge_id))

    def disburse(self, disbursement_id: str, sources: list[tuple[str, str, int]], period: str = "2025-03") -> dict:
        return self.submit(self.baznas, "disbursement.made", payloads.disbursement(
            PROGRAMME, disbursement_id, "bpjs-kelapa-gading", period, "2025-03-01", sources))

    def enrol(self, nik: str, category: str = "ojek_online", enrolled_on: str = "2025-01-15",
              jht: bool = False, kelurahan: str = "Kelapa Gading Barat") -> str:
        # As BPJS tooling does: the person's indexed reference, or a fresh random one.
        reference = self.ledger.worker_reference_for(nik) or new_worker_reference()
        self.ledger.submit(self.bpjs.submission(self.key("enrol"), [("worker.enrolled", "2025-01-15T08:00:00Z",
            payloads.enrolment(PROGRAMME, reference, category, kelurahan, enrolled_on, jht=jht))]) | {
            "personal": {"0": {"nik": nik, "name": f"Pekerja {nik[-4:]}", "phone": "0812 0000 0000"}}})
        self.workers[reference] = {"worker": reference, "income_rupiah": 1_000_000, "category": category, "jht": jht,
                                   "enrolled_on": enrolled_on}
        return reference

    def pay(self, batch: str, disbursement_id: str, month: str, references: list[str], paid_on: str | None = None) -> dict:
        """Pay a month's premiums; by default on the earliest day the rules allow (the month's
        first day, once the money was disbursed and the workers enrolled)."""
        workers = [self.workers[reference] for reference in references]
        return self.batch(self.bpjs, payloads.premium_batch(PROGRAMME, batch, disbursement_id, month, workers,
                                                            paid_on=paid_on or self.earliest_payment(
                                                                disbursement_id, month, workers)))

    def earliest_payment(self, disbursement_id: str, month: str, workers: list[dict]) -> str:
        disbursement = programme_state(self.ledger).disbursements.get(disbursement_id)
        made_on = disbursement.made_on if disbursement else ""
        return max([f"{month}-01", made_on, *(worker.get("enrolled_on", "") for worker in workers)])


@pytest.fixture
def programme(world) -> Programme:
    city = world.register("pemkot-jakarta-utara", "city")
    baznas = world.register("baznas-jakarta-utara", "baznas")
    bpjs = world.register("bpjs-kelapa-gading", "bpjs")
    companies = {"pt-maju-bersama": world.company, "pt-sinar-laut": world.register("pt-sinar-laut", "company")}
    result = Programme(world, city, baznas, bpjs, companies)
    result.submit(city, "programme.opened", payloads.programme_opened(PROGRAMME, 2025), "2025-01-02T08:00:00Z")
    return result


# ---- shared by the domain tests: refusals, reversals, claims, balances ---------------------

from ledger.bundle import verify_database  # noqa: E402
from ledger.domain.common import aggregate_uuid  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402


def snapshot(ledger) -> tuple:
    """What a refused command must leave untouched: the log size and the latest checkpoint."""
    return ledger.size(), ledger.latest_checkpoint()


def assert_refused(ledger, error_class: type, field: str, command) -> LedgerError:
    """`command` raises exactly `error_class` naming `field`, and nothing is stored."""
    before = snapshot(ledger)
    with pytest.raises(LedgerError) as caught:
        command()
    error = caught.value
    assert type(error) is error_class, f"{type(error).__name__} ({error}), expected {error_class.__name__}"
    assert error.field == field, f"field {error.field!r} ({error}), expected {field!r}"
    assert snapshot(ledger) == before, "a refused command stored something"
    return error


def assert_refused_as_one_of(ledger, error_classes: tuple, fields: tuple, command) -> LedgerError:
    """For a refusal the ledger does not make yet, where the fix may reasonably choose among a
    few classes and fields: one of them, and nothing stored."""
    before = snapshot(ledger)
    with pytest.raises(LedgerError) as caught:
        command()
    error = caught.value
    assert type(error) in error_classes, f"{type(error).__name__} ({error})"
    assert error.field in fields, f"field {error.field!r} ({error}), expected one of {fields}"
    assert snapshot(ledger) == before, "a refused command stored something"
    return error


def attempt(ledger, command) -> bool:
    """Run a command the rules may accept or refuse; a refusal must store nothing."""
    before = snapshot(ledger)
    try:
        command()
        return True
    except LedgerError:
        assert snapshot(ledger) == before, "a refused command stored something"
        return False


def balances(ledger) -> dict[str, int]:
    """The trial balance replayed by the verifier; the database must verify."""
    # A KernelLedger (tests/kernel.py) has no database: the verifier reads its entries directly.
    report = ledger.verify() if hasattr(ledger, "verify") else verify_database(ledger)
    assert report.ok, [str(failure) for failure in report.failures]
    return report.balances


def programme_state(ledger, programme_id: str = PROGRAMME):
    from ledger.domain.programme import Programme as ProgrammeAggregate

    aggregate = ledger.repository.get(aggregate_uuid("programme", programme_id))
    assert isinstance(aggregate, ProgrammeAggregate)
    return aggregate


def _amil(self, receipt: str, company: str, amount: int, programme_id: str = PROGRAMME) -> dict:
    return self.submit(self.baznas, "amil.set_aside", {"programme": programme_id, "receipt": receipt,
                                                      "company": company, "amount_rupiah": amount})


def _reverse(self, signer, entry: int, kind: str, reference: dict, reason_code: str = "data_entry_error",
             programme_id: str = PROGRAMME) -> dict:
    return self.submit(signer, "entry.reversed", {
        "programme": programme_id, "entry": entry, "reverses": kind, "reference": reference,
        "reason_code": reason_code, "note": "keyed in error"})


Programme.amil = _amil
Programme.reverse = _reverse


def worker_state(ledger, reference: str):
    """The person's Worker aggregate (one per person, memberships per programme)."""
    from ledger.domain.workers import Worker, worker_uuid

    loaded = ledger.repository.get(worker_uuid(reference))
    assert isinstance(loaded, Worker)
    return loaded


def claim_state(ledger, benefit: str, worker: str, claim: str):
    """A claim's state: a JKK injury claim is its own aggregate, a death claim is the worker's."""
    from eventsourcing.application import AggregateNotFoundError

    from ledger.domain.claims import Claim, claim_uuid

    if benefit == "jkk":
        try:
            loaded = ledger.repository.get(claim_uuid(claim))
            assert isinstance(loaded, Claim)
            return loaded.state
        except AggregateNotFoundError:
            pass
    state = worker_state(ledger, worker).death_claim
    assert state is not None and state.claim_id == claim, state
    return state
