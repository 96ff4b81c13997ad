"""Properties of the submission parser (ledger/submission.py, fields.py, payloads.py) and of the
HTTP path that feeds it: whatever arrives is parsed or refused with a named LedgerError (a clean
4xx problem over HTTP, naming the field), never another exception, and a refusal stores nothing."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import MAX_BODY_BYTES
from ledger import fields, payloads, signing
from ledger.canonical import canonical_bytes
from ledger.client import Signer, public_key_b64
from ledger.config import Settings
from ledger.domain.common import MAX_RUPIAH, month
from ledger.domain.rates import CATEGORIES, default_rules
from ledger.errors import InvalidInput, LedgerError
from ledger.submission import parse_submission
from tests.domain.conftest import PROGRAMME
from tests.fuzz.conftest import MAJU, problem_body
from tests.fuzz.strategies import json_values

ORIGIN = Settings.from_environment({}).origin
SIGNER = Signer(ORIGIN, MAJU, signing.generate())
QUICK = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))
HTTP = settings(QUICK, max_examples=100)
# Decimal digits of other scripts: `\d` in a pattern matches them all, and int() reads them.
OTHER_DIGITS = st.sampled_from([0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10, 0x1D7CE])


def pledge_document(amount: object = 1_000_000, key: str = "k-1", **extra) -> dict:
    document = SIGNER.one(key, "pledge.made", "2025-03-01T00:00:00Z", payloads.pledge(PROGRAMME, "pl-x", 1))
    document["envelopes"][0]["payload"]["amount_rupiah"] = amount
    document.update(extra)
    return document


def refused(document: object) -> InvalidInput | None:
    """parse_submission's refusal, which must be a named InvalidInput; None if it parses."""
    try:
        parse_submission(document, ORIGIN)
    except InvalidInput as error:
        assert isinstance(error.field, str), error
        return error
    return None


# ---- the parser, in process ----------------------------------------------------------------

envelope_like = st.fixed_dictionaries({}, optional={name: json_values for name in (
    "actor", "idempotency_key", "key_id", "ledger", "occurred_at", "payload", "sequence", "type")})


@QUICK
@given(st.one_of(json_values, st.fixed_dictionaries(
    {"envelopes": st.lists(envelope_like | json_values, max_size=3), "signature": json_values},
    optional={"personal": json_values})))
def test_any_json_document_is_parsed_or_refused_by_name(document):
    refused(document)


ENVELOPE_NAMES = ["actor", "idempotency_key", "key_id", "ledger", "occurred_at", "sequence", "type"]


@QUICK
@given(name=st.sampled_from(ENVELOPE_NAMES), value=json_values)
def test_a_wrong_envelope_field_is_refused_naming_that_field(name, value):
    document = pledge_document()
    document["envelopes"][0][name] = value
    error = refused(document)
    if error is not None:
        assert error.field == f"envelopes[0].{name}", error


@QUICK
@given(name=st.sampled_from(["programme", "pledge", "amount_rupiah", "fund_type", "pledged_on"]) | st.text(),
       value=json_values)
def test_a_wrong_payload_field_is_refused_naming_that_field(name, value):
    document = pledge_document()
    document["envelopes"][0]["payload"][name] = value
    error = refused(document)
    if error is not None:
        assert error.field.startswith(f"envelopes[0].payload.{name}"), error


@QUICK
@given(amount=st.integers(1, MAX_RUPIAH), pledge=st.from_regex(fields.IDENTIFIER, fullmatch=True),
       key=st.from_regex(fields.IDENTIFIER, fullmatch=True))
def test_what_a_client_signs_the_parser_reads_back_and_verifies(amount, pledge, key):
    document = SIGNER.one(key, "pledge.made", "2025-03-01T00:00:00Z", payloads.pledge(PROGRAMME, pledge, amount))
    submission = parse_submission(json.loads(json.dumps(document)), ORIGIN)
    assert submission.envelope_bytes == [canonical_bytes(document["envelopes"][0])]
    signing.verify(signing.public_key_bytes(SIGNER.private_key), submission.signature, submission.signed_message)


@QUICK
@given(workers=st.lists(st.tuples(st.sampled_from(default_rules()["income_brackets_rupiah"]),
                                  st.sampled_from(CATEGORIES), st.booleans()), min_size=1, max_size=8),
       month_number=st.integers(1, 12))
def test_premium_batches_built_by_payloads_parse_and_add_up(workers, month_number):
    lines = [{"worker": f"{position:064x}", "income_rupiah": income, "category": category, "jht": jht}
             for position, (income, category, jht) in enumerate(workers)]
    events = payloads.premium_batch(PROGRAMME, "b-1", "ds-1", f"2025-{month_number:02d}", lines)
    submission = parse_submission(SIGNER.submission("k", [(t, "2025-03-01T00:00:00Z", p) for t, p in events]), ORIGIN)
    header = submission.envelopes[0]["payload"]
    assert header["lines"] == len(workers) == submission.batch_proof(0)["size"] - 1
    assert header["total_rupiah"] == sum(envelope["payload"]["amount_rupiah"] for envelope in submission.envelopes[1:])


@QUICK
@given(key=st.text(max_size=6) | st.sampled_from(["0", "00", "01", "²", "٣", "１", "-0", " 0", "0 ", "1e0"]))
def test_personal_data_is_keyed_by_one_spelling_of_each_sequence(key):
    """Found: "²" passed str.isdigit() and then int() raised ValueError (a 500); "00" and "٣"
    were read as envelopes 0 and 3."""
    record = {"nik": "3172000000000000"}
    error = refused(pledge_document(personal={key: record}))
    if key == "0":
        assert error is None or not error.field.startswith("personal"), error
    else:
        assert error is not None and error.field == f"personal.{key}", error


@QUICK
@given(zero=OTHER_DIGITS)
def test_months_dates_times_and_niks_are_ascii_digits(zero):
    """Found: month "٢٠٢٥-03" matched \\d and was accepted, so a premium for March 2025 could be paid
    twice under two spellings of the month."""

    def spelled(text: str) -> str:
        return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)

    with pytest.raises(InvalidInput) as caught:
        month(spelled("2025-03"), "month")
    assert caught.value.field == "month"
    for field, value in (("pledged_on", spelled("2025-03-01")),):
        document = pledge_document()
        document["envelopes"][0]["payload"][field] = value
        assert refused(document).field == f"envelopes[0].payload.{field}"
    document = pledge_document()
    document["envelopes"][0]["occurred_at"] = spelled("2025-03-01T00:00:00") + "Z"
    assert refused(document).field == "envelopes[0].occurred_at"
    assert refused(pledge_document(personal={"0": {"nik": spelled("3172000000000000")}})).field == "personal.0.nik"


CHECKS = {"integer": fields.integer(0, 10), "identifier": fields.identifier, "organisation": fields.organisation_id,
          "one_of": fields.one_of("a", "b"), "date": fields.calendar_date, "public_key": fields.public_key,
          "key_id": fields.key_id, "month": month}


@QUICK
@given(check=st.sampled_from(sorted(CHECKS)), value=json_values)
def test_field_checks_return_or_refuse_by_name(check, value):
    try:
        CHECKS[check](value, "payload.x")
    except InvalidInput as error:
        assert error.field == "payload.x"


# ---- the HTTP path -------------------------------------------------------------------------

def post(target, body: bytes | str, content_type: str = "application/json", **kwargs):
    return target.app.test_client().post("/api/v1/submissions", data=body, content_type=content_type, **kwargs)


def assert_refused(target, response, status: int = 400) -> dict:
    body = problem_body(response)
    assert response.status_code == status, body
    assert target.unchanged()
    return body


def company_pledge(target, key: str, amount: object = 1_000_000) -> dict:
    signer = target.programme.companies[MAJU]
    document = signer.one(key, "pledge.made", "2025-03-01T00:00:00Z", payloads.pledge(PROGRAMME, f"pl-{key}", 1))
    document["envelopes"][0]["payload"]["amount_rupiah"] = amount
    try:
        document["signature"] = signing.b64encode(signing.sign(signer.private_key, canonical_bytes(
            document["envelopes"][0])))
    except LedgerError:
        pass
    return document


def signed_as_sent(target, text: str) -> str:
    """`text` signed by a hostile company over the bytes the server will compute from it (what
    our client refuses to encode, it signs anyway), so the payload checks, not the signature,
    answer. Values no encoding can carry (NaN) stay unsigned: the server names them all the same."""
    document = json.loads(text)
    try:
        encoded = [json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                              allow_nan=False).encode() for envelope in document["envelopes"]]
    except ValueError:
        return text
    document["signature"] = signing.b64encode(signing.sign(target.programme.companies[MAJU].private_key, encoded[0]))
    return json.dumps(document)


def test_every_prefix_of_a_valid_body_is_refused_cleanly(target, tally):
    p = target.programme
    single = json.dumps(company_pledge(target, "prefix-1")).encode()
    batch = p.bpjs.submission("prefix-2", [("worker.enrolled", "2025-06-01T08:00:00Z", payloads.enrolment(
        PROGRAMME, "cd" * 32, "jumantik", "Kelapa Gading Timur", "2025-06-01"))])
    batch["personal"] = {"0": {"nik": "3172000000000099", "name": "Ibu Ani \u00e9\u202e", "phone": "0812 3"}}
    for body in (single, json.dumps(batch, ensure_ascii=False).encode()):
        for length in range(len(body)):
            assert_refused(target, post(target, body[:length]))
            tally.add("http", target.database, "prefix", "refused")
    assert post(target, single).status_code == 201


@pytest.mark.parametrize("where", ["top", "envelopes", "payload", "personal"])
def test_nesting_10000_levels_deep_is_a_clean_400(target, where):
    deep = "[" * 10_000 + "]" * 10_000
    document = json.dumps(company_pledge(target, "deep"))
    body = {"top": deep, "envelopes": document.replace('"envelopes": [', f'"envelopes": [{deep}, ', 1),
            "payload": document.replace('"amount_rupiah": 1000000', f'"amount_rupiah": {deep}'),
            "personal": document[:-1] + f', "personal": {{"0": {{"name": {deep}}}}}}}'}[where]
    assert "not valid JSON" in assert_refused(target, post(target, body))["detail"]
    for depth in (20, 200, 900):  # deep, but within what the parser reads: refused by name
        nested = "[" * depth + "1" + "]" * depth
        answer = assert_refused(target, post(target, signed_as_sent(target, document.replace(
            '"amount_rupiah": 1000000', f'"amount_rupiah": {nested}'))))
        assert answer["errors"][0]["field"] == "envelopes[0].payload.amount_rupiah"


@pytest.mark.parametrize("key,where", [("signature", "top"), ("actor", "envelope"), ("amount_rupiah", "payload"),
                                       ("nik", "personal")])
def test_a_duplicate_key_is_refused_naming_the_key(target, key, where):
    document = company_pledge(target, "dup")
    document["personal"] = {"0": {"nik": "3172000000000001"}}
    text = json.dumps(document)
    value = json.dumps({"top": document["signature"], "envelope": MAJU, "payload": 1_000_000,
                        "personal": "3172000000000001"}[where])
    twice = text.replace(f'"{key}": {value}', f'"{key}": {value}, "{key}": {value}', 1)
    assert twice != text
    body = assert_refused(target, post(target, twice))
    assert body["errors"][0]["field"] == key and "duplicate key" in body["detail"]


NOT_JSON = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml",
            "application/jsonx", "application/merge-patch+json", "", "application/octet-stream"]


def test_a_body_that_is_not_json_is_a_415(target):
    body = json.dumps(company_pledge(target, "ct"))
    for content_type in NOT_JSON:  # one ledger for all: building one per case would be most of the time
        assert_refused(target, post(target, body, content_type), 415)


def registration(target, organisation: str, name: str) -> str:
    """A registration of a company named `name`, signed by the registrar."""
    return json.dumps(target.programme.world.registrar.one(
        f"reg-{organisation}", "organisation.registered", "2025-06-01T00:00:00Z", {
            "organisation": organisation, "legal_name": name, "kind": "company",
            "public_key": public_key_b64(signing.generate())}), ensure_ascii=False)


def test_json_in_another_encoding_than_utf8_is_refused(target):
    """RFC 8259: JSON between systems is UTF-8. Before, UTF-16, UTF-32 and a BOM were guessed at."""
    body = registration(target, "pt-elan", "PT Élan Jaya")  # not ASCII, so latin-1 differs from UTF-8
    for encoding in ("utf-16", "utf-32", "utf-8-sig", "latin-1"):
        assert_refused(target, post(target, body.encode(encoding)))
    assert post(target, body.encode("utf-8")).status_code == 201


def test_a_body_over_16_mib_is_a_413_with_or_without_content_length(target):
    body = b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"
    assert_refused(target, post(target, body), 413)
    streamed = target.app.test_client().post(  # chunked, as gunicorn passes it: no Content-Length
        "/api/v1/submissions", input_stream=io.BytesIO(body), content_type="application/json",
        headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True})
    assert_refused(target, streamed, 413)


NUMBERS = ["9007199254740992", "9223372036854775808", "18446744073709551617", "1" + "0" * 40, "-0", "0", "1.0",
           "1e2", "1E+2", "1e400", "-1e400", "5e-324", "-0.0", "NaN", "Infinity", "-Infinity"]


def test_numbers_json_can_spell_but_rupiah_cannot_are_refused_by_field(target):
    template = json.dumps(company_pledge(target, "num"))
    for number in NUMBERS:
        text = template.replace('"amount_rupiah": 1000000', f'"amount_rupiah": {number}')
        body = assert_refused(target, post(target, signed_as_sent(target, text)))
        assert body["errors"][0]["field"] == "envelopes[0].payload.amount_rupiah", (number, body)


def test_an_integer_longer_than_python_reads_is_a_clean_400(target):
    text = json.dumps(company_pledge(target, "long")).replace('"amount_rupiah": 1000000',
                                                              '"amount_rupiah": ' + "9" * 5000)
    assert "not valid JSON" in assert_refused(target, post(target, text))["detail"]


legal_names = st.text(max_size=40) | st.sampled_from(["PT \x00 Nul", "PT \u202eRTL", "PT e\u0301", "PT 😀", "PT \ud800",
                                                      "", " ", "\udfff", "x" * 201, "PT \ufeff\u200f\u05d0"])


def test_unicode_names_round_trip_exactly_or_are_refused_by_name(target, tally):
    registrar = target.programme.world.registrar
    client = target.app.test_client()
    counter = iter(range(10**6))

    @HTTP
    @given(name=legal_names)
    def check(name):
        organisation = f"pt-u{next(counter)}"
        envelope = registrar.envelope(0, f"reg-{organisation}", "organisation.registered", "2025-06-01T00:00:00Z", {
            "organisation": organisation, "legal_name": name, "kind": "company",
            "public_key": public_key_b64(signing.generate())})
        try:
            signature = signing.b64encode(signing.sign(registrar.private_key, canonical_bytes(envelope)))
        except LedgerError:
            signature = "A" * 86 + "=="  # no client can sign a lone surrogate; the server must still say where
        response = post(target, json.dumps({"envelopes": [envelope], "signature": signature}))
        tally.add("http", target.database, "unicode legal_name", response.status_code)
        if response.status_code == 201:
            index = response.get_json()["first_index"]
            entry = client.get(f"/api/v1/entries?start={index}&limit=1", headers=target.headers("auditor")).get_json()
            assert entry["entries"][0]["entry"]["envelope"]["payload"]["legal_name"] == name
        else:
            body = problem_body(response)
            assert response.status_code == 400 and body["errors"][0]["field"] == "envelopes[0].payload.legal_name"

    check()


def test_a_nul_in_free_text_is_refused_and_the_views_keep_up(target):
    """Found: on PostgreSQL a legal name holding U+0000 was stored in the log, then the views could
    not take it: a 500 that said nothing was stored, and every later catch-up failed on it."""
    body = assert_refused(target, post(target, registration(target, "pt-nul", "PT Nul\x00 Jaya")))
    assert body["errors"][0]["field"] == "envelopes[0].payload.legal_name"
    stored = post(target, registration(target, "pt-soh", "PT \x01\x7f Jaya"))
    assert stored.status_code == 201
    stored.close()  # as the server does once the answer is sent: the views catch up soon after
    assert target.services.follower.wait_idle(30)
    assert target.services.runner.position() == target.services.ledger.size()
