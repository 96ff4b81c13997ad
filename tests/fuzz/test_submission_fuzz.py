"""POST /api/v1/submissions with structurally valid but wrong envelopes: real submissions of
every kind the year has, with fields replaced, dropped or added, re-signed by the right key (so
the payload checks and domain rules are reached) or by a wrong one. The server must answer a
problem naming what is wrong, never a 5xx, and store nothing unless it accepts."""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle, payloads, signing
from ledger.bundle import verify_database
from ledger.canonical import canonical_bytes
from ledger.client import public_key_b64
from ledger.errors import CanonicalisationError
from tests.domain.conftest import PROGRAMME
from tests.fuzz.conftest import MAJU, problem_body
from tests.fuzz.strategies import json_values

ENVELOPE_FIELDS = ("actor", "idempotency_key", "key_id", "ledger", "occurred_at", "payload", "sequence", "type")
EXAMPLES = 300
KEYS = itertools.count()
OTHER_KEY = signing.generate()  # registered to nobody


def templates(target) -> dict[str, tuple]:
    """(signer, [(type, payload), ...], personal) of submissions the year would accept."""
    p = target.programme
    worker = next(iter(p.workers))
    batch = payloads.premium_batch(PROGRAMME, "b-fz", "ds-1", "2025-04", [p.workers[worker]])
    return {
        "pledge": (p.companies[MAJU], [("pledge.made", payloads.pledge(PROGRAMME, "pl-fz", 5_000_000))], None),
        "receipt": (p.baznas, [("donation.received", payloads.receipt(
            PROGRAMME, "rc-fz", MAJU, 1_000_000, "2025-04-01", "pl-1"))], None),
        "amil": (p.baznas, [("amil.set_aside", {"programme": PROGRAMME, "receipt": "rc-1", "company": MAJU,
                                                "amount_rupiah": 100_000})], None),
        "disbursement": (p.baznas, [("disbursement.made", payloads.disbursement(
            PROGRAMME, "ds-fz", "bpjs-kelapa-gading", "2025-04", "2025-04-01", [("rc-1", MAJU, 100_000)]))], None),
        "enrolment": (p.bpjs, [("worker.enrolled", payloads.enrolment(
            PROGRAMME, "ab" * 32, "ojek_online", "Kelapa Gading Barat", "2025-04-01"))],
            {"0": {"nik": "3172065212999999", "name": "Siti", "phone": "0812 1111 2222"}}),
        "premiums": (p.bpjs, batch, None),
        "claim": (p.bpjs, [("claim.filed", payloads.claim(PROGRAMME, "kl-fz", worker, "jkk",
                                                          incident_on="2025-03-10", filed_on="2025-03-11"))], None),
        "organisation": (p.world.registrar, [("organisation.registered", {
            "organisation": "pt-baru", "legal_name": "PT Baru", "kind": "company",
            "public_key": public_key_b64(signing.generate())})], None),
    }


def sign(private_key, envelopes: list) -> str:
    """The signature a client would make over these envelopes, however wrong they are."""
    encoded = [canonical_bytes(envelope) for envelope in envelopes]
    message = encoded[0] if len(encoded) == 1 else merkle.root_of([merkle.leaf_hash(data) for data in encoded])
    return signing.b64encode(signing.sign(private_key, message))


names = st.sampled_from(ENVELOPE_FIELDS) | st.text(max_size=12)
PLAUSIBLE = ["pl-1", "rc-1", "rc-2", "ds-1", "b-2025-03", "kl-1", MAJU, "pt-sinar-laut", "bpjs-kelapa-gading",
             "baznas-jakarta-utara", "pemkot-jakarta-utara", "registrar", "sertakan-jakut-2024", "2024-12-31",
             "2025-01-01", "2025-02-29", "2025-06-01", "2025-12-31", "2026-01-01", "2025-01", "2025-12", "2026-01",
             "zakat", "sedekah", "jkm", "jkk", "company", "auditor", "ab" * 32, "cd" * 32]
similar = st.tuples(st.integers(1, 200_000_000) | st.sampled_from([-1, 0, 2**53 - 1, 10**12, 10**12 + 1]),
                    st.sampled_from(PLAUSIBLE) | st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True))
mutations = st.lists(st.one_of(
    st.tuples(st.just("similar"), st.integers(0, 20), similar),  # a value of the right type, wrong content
    st.tuples(st.just("similar"), st.integers(0, 20), similar),
    st.tuples(st.just("envelope"), names, json_values), st.tuples(st.just("drop"), names, st.none()),
    st.tuples(st.just("payload"), st.text(max_size=20), json_values),
    st.tuples(st.just("field"), st.integers(0, 20), json_values),  # replace the payload's n-th field
    st.tuples(st.just("unpayload"), st.integers(0, 20), st.none()),
    st.tuples(st.just("personal"), st.just(""), json_values),
), min_size=1, max_size=2)
signatures = st.sampled_from(["right key"] * 5 + ["other key", "garbage", "none"])


def mutate(envelope: dict, mutation: tuple, document: dict) -> None:
    kind, name, value = mutation
    payload = envelope["payload"] if isinstance(envelope.get("payload"), dict) else None
    if kind == "envelope":
        envelope[name] = value
    elif kind == "drop":
        envelope.pop(name, None)
    elif kind == "payload" and payload is not None:
        payload[name] = value
    elif kind in ("field", "unpayload", "similar") and payload:
        key = sorted(payload)[name % len(payload)]
        if kind == "field":
            payload[key] = value
        elif kind == "similar":
            payload[key] = _similar(payload[key], value)
        else:
            del payload[key]
    elif kind == "personal":
        document["personal"] = value


def _similar(old: object, candidates: tuple[int, str]) -> object:
    """A value of the same JSON type as `old`: a number for a number, a string for a string."""
    number, text = candidates
    if isinstance(old, bool):
        return not old
    return number if isinstance(old, int) else text if isinstance(old, str) else old


def wrong_document(target, name: str, changes: list, signature: str) -> dict:
    signer, events, personal = templates(target)[name]
    document = signer.submission(f"fz-{next(KEYS)}", [(kind, "2025-06-02T08:00:00Z", payload)
                                                      for kind, payload in events])
    if personal:
        document["personal"] = personal
    for position, change in enumerate(changes):
        mutate(document["envelopes"][position % len(document["envelopes"])], change, document)
    key = {"right key": signer.private_key, "other key": OTHER_KEY}.get(signature)
    try:
        document["signature"] = sign(key, document["envelopes"]) if key else "AAAA" * 22 + "AA=="
    except CanonicalisationError:
        pass  # a client cannot sign it; it goes with the signature of the unchanged envelopes
    if signature == "none":
        del document["signature"]
    return document


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(["pledge", "receipt", "amil", "disbursement", "enrolment", "premiums",
                                    "claim", "organisation"])), changes=mutations, signature=signatures)
def check_wrong_envelope(target, tally, name, changes, signature):
    document = wrong_document(target, name, changes, signature)
    client = target.app.test_client()
    before = target.quick_state()
    response = client.post("/api/v1/submissions", data=json.dumps(document), content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    tally.add("submission", target.database, name, signature, response.status_code)
    if response.status_code >= 400:
        body = problem_body(response)
        assert target.quick_state() == before, "a refused submission changed the log or the views"
        if response.status_code == 400:
            assert body.get("errors") and body["errors"][0]["field"], body
    else:
        assert target.services.ledger.size() == before[0] + response.get_json()["count"]


def test_wrong_envelopes_are_refused_by_name_and_store_nothing(target, tally):
    check_wrong_envelope(target, tally)
    report = verify_database(target.services.ledger)
    assert report.ok, [str(failure) for failure in report.failures]
