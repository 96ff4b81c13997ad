"""Who may call what, on SQLite and PostgreSQL: every operation of docs/openapi.json for every
kind of caller, derived from the document so that a new endpoint cannot escape the matrix; a
company never sees another company's data; revoked tokens and revoked signing keys are refused;
tokens are stored and looked up only as SHA-256 digests."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from api import tokens as token_module
from api.app import create_app
from ledger import payloads, signing
from ledger.client import Signer, public_key_b64
from ledger.domain.awards import DEFAULT_CRITERIA
from tests.domain.conftest import PROGRAMME
from tests.niks import nik

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
METHODS = ("get", "post", "put", "patch", "delete")
A, B = "pt-maju-bersama", "pt-sinar-laut"
# What company B holds that company A must never see: ids, legal name, amounts.
B_SECRETS = (B, B.upper(), "pl-b-rahasia", "rc-b-rahasia", "77000000", "77.000.000", "77,000,000",
             "41300000", "41.300.000", "41,300,000")

# Every operation of the OpenAPI document: who may call it, and a concrete request for it.
MATRIX = {
    ("get", "/api/v1/awards/{year}"): ("public", "/api/v1/awards/2025"),
    ("get", "/api/v1/awards/{year}/preview"): ("public", "/api/v1/awards/2025/preview"),
    ("post", "/api/v1/awards/{year}/preview"): ("city", "/api/v1/awards/2025/preview"),
    ("get", "/api/v1/checkpoint"): ("public", "/api/v1/checkpoint"),
    ("get", "/api/v1/checkpoints"): ("public", "/api/v1/checkpoints"),
    ("get", "/api/v1/health"): ("public", "/api/v1/health"),
    ("get", "/api/v1/keys"): ("public", "/api/v1/keys"),
    ("get", "/api/v1/proofs/consistency"): ("public", "/api/v1/proofs/consistency?first=1&second=3"),
    ("get", "/api/v1/proofs/inclusion"): ("public", "/api/v1/proofs/inclusion?index=1&size=3"),
    ("get", "/api/v1/totals"): ("public", "/api/v1/totals?year=2025"),
    ("post", "/api/v1/submissions"): ("signature", "/api/v1/submissions"),
    ("get", "/api/v1/entries"): ("auditor", "/api/v1/entries?start=0&limit=5"),
    ("get", "/api/v1/balances"): ("auditor", "/api/v1/balances"),
    ("get", "/api/v1/reconciliation"): ("auditor", "/api/v1/reconciliation?as_of=2025-12-31"),
    ("get", "/api/v1/journal"): ("auditor", "/api/v1/journal?from=2025-01-01&to=2025-12-31"),
    ("get", "/api/v1/funds"): ("auditor", "/api/v1/funds?period=2025"),
    ("get", "/api/v1/trace/{index}"): ("auditor", "/api/v1/trace/5"),
    ("get", "/api/v1/companies/{company}/statement"): ("company", "/api/v1/companies/{company}/statement?year=2025"),
    ("get", "/api/v1/companies/{company}/trace"): ("company", "/api/v1/companies/{company}/trace"),
}
INVALID = ("no token", "malformed", "not bearer", "empty bearer", "revoked", "unregistered organisation")
VALID = ("company A", "company B", "auditor", "registrar", "city", "baznas", "bpjs")
ROLES = INVALID + VALID


def expected_status(rule: str, role: str, company: str) -> int:
    """The status the access rule gives `role` (tokens expire never: only revocation ends them)."""
    if rule == "public":
        return 200
    if rule == "signature":
        return 201  # writes are authenticated by their signature alone, whatever the token
    if role in INVALID:
        return 401
    if role in ("auditor", "registrar"):
        return 200
    if rule == "company" and role == {A: "company A", B: "company B"}[company]:
        return 200
    if rule == "city" and role == "city":
        return 200
    return 403


def test_every_operation_of_the_openapi_document_is_in_the_matrix():
    documented = {(method, path) for path, item in OPENAPI["paths"].items() for method in item if method in METHODS}
    assert documented - set(MATRIX) == set(), "add these operations to MATRIX with their access rule"
    assert set(MATRIX) - documented == set(), "MATRIX names operations the API no longer has"


@pytest.fixture
def api(programme):
    """Two companies with money in one disbursement and premiums, and a token for every role."""
    p = programme
    p.pledge(A, "pl-a", 100_000_000)
    p.pledge(B, "pl-b-rahasia", 77_000_000)
    p.receive(A, "rc-a", 60_000_000, "pl-a")
    p.receive(B, "rc-b-rahasia", 41_300_000, "pl-b-rahasia")
    workers = [p.enrol(nik(n)) for n in range(2)]
    p.disburse("ds-campur", [("rc-a", A, 33_600), ("rc-b-rahasia", B, 33_600)])
    p.pay("premi-1", "ds-campur", "2025-03", workers)
    p.pay("premi-2", "ds-campur", "2025-04", workers)
    auditor = p.world.register("auditor-bpk", "auditor")
    app = create_app({"SETTINGS": p.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    issued = {role: services.tokens.issue(organisation)[0] for role, organisation in (
        ("company A", A), ("company B", B), ("auditor", auditor.actor), ("registrar", "registrar"),
        ("city", "pemkot-jakarta-utara"), ("baznas", "baznas-jakarta-utara"), ("bpjs", "bpjs-kelapa-gading"),
        ("unregistered organisation", "pt-tidak-terdaftar"))}
    revoked, revoked_id = services.tokens.issue(A)
    services.tokens.revoke(revoked_id)
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in issued.items()}
    headers.update({"no token": {}, "malformed": {"Authorization": "Bearer amanah_" + "x" * 43},
                    "not bearer": {"Authorization": f"Basic {issued['auditor']}"},
                    "empty bearer": {"Authorization": "Bearer "},
                    "revoked": {"Authorization": f"Bearer {revoked}"}})
    client = app.test_client()
    client.programme, client.headers, client.services = p, headers, services
    yield client
    services.close()


def is_problem(response, status: int) -> dict:
    body = response.get_json(force=True)
    assert response.status_code == status, (status, response.status_code, body)
    assert response.mimetype == "application/problem+json" and body["status"] == status
    assert {"type", "title", "detail", "code"} <= set(body)
    return body


def signed_pledge(client, idempotency_key: str) -> dict:
    return client.programme.companies[A].one(idempotency_key, "pledge.made", "2025-05-01T00:00:00Z",
                                             payloads.pledge(PROGRAMME, f"pl-{idempotency_key}", 1_000_000))


def call(client, method: str, url: str, role: str, number: int):
    if method == "post" and url.endswith("/preview"):
        return client.post(url, json=DEFAULT_CRITERIA, headers=client.headers[role])
    if method == "post":
        return client.post(url, json=signed_pledge(client, f"matrix-{number}"), headers=client.headers[role])
    return client.open(url, method=method.upper(), headers=client.headers[role])


def test_the_access_matrix_holds_for_every_operation_and_role(api):
    tried = 0
    for (method, path), (rule, url) in sorted(MATRIX.items()):
        for company in ((A, B) if rule == "company" else (A,)):
            for role in ROLES:
                response = call(api, method, url.format(company=company), role, tried)
                expected = expected_status(rule, role, company)
                assert response.status_code == expected, (method, url, company, role, response.get_data()[:300])
                if expected >= 400:
                    body = is_problem(response, expected)
                    if expected == 401:
                        assert response.headers["WWW-Authenticate"].startswith("Bearer")
                    if expected == 403:
                        assert role.split()[0] in body["detail"] or "may not read" in body["detail"]
                tried += 1
    assert tried == len(ROLES) * (len(MATRIX) + 2)


def test_undocumented_methods_are_refused_with_405_and_allow(api):
    for path, item in OPENAPI["paths"].items():
        url = MATRIX[(next(method for method in item if method in METHODS), path)][1].format(company=A)
        allowed = {method.upper() for method in item if method in METHODS}
        for method in set(METHODS) - {method.lower() for method in allowed}:
            for role in ("no token", "auditor"):
                response = api.open(url, method=method.upper(), headers=api.headers[role])
                is_problem(response, 405)
                assert allowed <= set(response.headers["Allow"].split(", ")), (method, url)


def test_a_forged_or_revoked_key_cannot_submit_whatever_the_token(api):
    programme, size = api.programme, api.programme.ledger.size()
    forged = signed_pledge(api, "forged")
    forged["envelopes"][0]["payload"]["amount_rupiah"] = 2_000_000
    for role in ROLES:
        body = is_problem(api.post("/api/v1/submissions", json=forged, headers=api.headers[role]), 403)
        assert body["code"] == "bad-signature"
    assert programme.ledger.size() == size


def rotate_company_key(programme, company: str) -> Signer:
    """The registrar replaces the company's key; returns a signer with the new key."""
    old = programme.companies[company]
    new = Signer(old.origin, company, signing.generate())
    programme.ledger.submit(programme.world.registrar.one(f"rotate-{company}", "key.rotated", "2025-05-01T00:00:00Z", {
        "organisation": company, "public_key": public_key_b64(new.private_key), "replaces": old.key_id}))
    return new


def test_a_revoked_signing_key_is_refused_and_the_refusal_names_the_key(api):
    programme = api.programme
    old = programme.companies[A]
    new = rotate_company_key(programme, A)
    size = programme.ledger.size()
    pledge = payloads.pledge(PROGRAMME, "pl-old-key", 1_000_000)
    for number, role in enumerate(("company A", "auditor", "no token")):
        response = api.post("/api/v1/submissions", json=old.one(f"old-key-{number}", "pledge.made",
                                                                 "2025-05-02T00:00:00Z", pledge),
                            headers=api.headers[role])
        body = is_problem(response, 403)
        assert body["code"] == "revoked-key" and old.key_id in body["detail"] and A in body["detail"]
        assert body["errors"] == [{"field": "envelopes[0].key_id", "detail": body["errors"][0]["detail"]}]
    assert programme.ledger.size() == size
    # A key.revoked works the same, and the organisation's other key goes on working.
    spare = Signer(old.origin, A, signing.generate())
    programme.ledger.submit(programme.world.registrar.one("add-spare", "key.added", "2025-05-02T00:00:00Z", {
        "organisation": A, "public_key": public_key_b64(spare.private_key)}))
    programme.ledger.submit(programme.world.registrar.one("revoke-new", "key.revoked", "2025-05-02T00:00:00Z", {
        "organisation": A, "key_id": new.key_id, "reason": "laptop lost"}))
    refused = api.post("/api/v1/submissions", json=new.one("new-key", "pledge.made", "2025-05-03T00:00:00Z", pledge))
    assert new.key_id in is_problem(refused, 403)["detail"]
    accepted = api.post("/api/v1/submissions", json=spare.one("spare-key", "pledge.made", "2025-05-03T00:00:00Z", pledge))
    assert accepted.status_code == 201, accepted.get_json()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    attached = [item for files in reader.attachments.values() for item in files]
    return "\n".join(page.extract_text() for page in reader.pages) + "\n".join(
        item.decode() for item in attached)


def readable(response) -> str:
    if response.mimetype == "application/pdf":
        return pdf_text(response.data)
    return response.get_data(as_text=True)


COMPANY_A_READS = [
    "/api/v1/companies/{A}/statement?year=2025", "/api/v1/companies/{A}/statement?period=2025-H1",
    "/api/v1/companies/{A}/statement?period=2025-H2", "/api/v1/companies/{A}/statement?year=2025&format=csv",
    "/api/v1/companies/{A}/statement?year=2025&format=pdf", "/api/v1/companies/{A}/statement?year=2025&format=json",
    "/api/v1/companies/{A}/trace", "/api/v1/companies/{A}/trace?receipt=rc-a",
]


def test_a_company_sees_its_own_money_and_never_another_companys(api):
    headers = api.headers["company A"]
    for template in COMPANY_A_READS:
        response = api.get(template.format(A=A), headers=headers)
        assert response.status_code == 200, (template, response.get_data()[:300])
        text = readable(response)
        assert A in text or "rc-a" in text, template
        leaked = [secret for secret in B_SECRETS if secret in text]
        assert not leaked, (template, leaked)
    # the auditor's view of the same money does show company B: the check above can see it
    auditor = api.get(f"/api/v1/companies/{B}/trace", headers=api.headers["auditor"]).get_data(as_text=True)
    assert "rc-b-rahasia" in auditor and "41300000" in auditor


@pytest.mark.parametrize("path", [
    f"/api/v1/companies/{B.upper()}/statement?year=2025", f"/api/v1/companies/{B}%20/statement?year=2025",
    f"/api/v1/companies/{A}/../{B}/statement?year=2025", f"/api/v1/companies/{A}%2F..%2F{B}/statement?year=2025",
    f"/api/v1/companies/{B}/statement/?year=2025", f"/api/v1/companies/{B}%00/trace",
    f"/api/v1/companies/{B}/trace?receipt=rc-a", f"/api/v1/companies/{A}/trace?receipt=rc-b-rahasia",
    f"/api/v1/companies/{A}/statement?year=2025&company={B}", f"/api/v1/companies/{A}/trace?company={B}",
])
def test_tricks_to_reach_another_companys_data_are_refused_and_reveal_nothing(api, path):
    response = api.get(path, headers=api.headers["company A"])
    assert response.status_code in (400, 403, 404), (path, response.status_code)
    body = is_problem(response, response.status_code)
    text = json.dumps(body)
    leaked = [secret for secret in B_SECRETS if secret in text and secret not in path]
    assert not leaked, (path, leaked)


def test_an_unknown_receipt_and_another_companys_receipt_look_the_same(api):
    headers = api.headers["company A"]
    theirs = is_problem(api.get(f"/api/v1/companies/{A}/trace?receipt=rc-b-rahasia", headers=headers), 404)
    nobody = is_problem(api.get(f"/api/v1/companies/{A}/trace?receipt=rc-tidak-ada", headers=headers), 404)
    assert theirs["detail"].replace("rc-b-rahasia", "X") == nobody["detail"].replace("rc-tidak-ada", "X")


def test_tokens_are_stored_and_looked_up_only_as_sha256_digests(api):
    store = api.services.tokens
    token, token_id = store.issue(A, "digest check")
    digest = hashlib.sha256(token.encode()).hexdigest()
    with store.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(select(token_module.tokens))]
    assert not any(token in str(value) for row in rows for value in row), "a token is stored in plain text"
    assert any(digest in row for row in rows) and token_id == digest[:16]

    parameters: list[str] = []

    def capture(connection, cursor, statement, values, context, executemany):
        parameters.append(f"{statement} {values!r}")

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        for role in ("company A", "revoked", "malformed"):
            api.get(f"/api/v1/companies/{A}/trace", headers=api.headers[role])
        assert store.holder(token).organisation == A
        assert store.holder(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    sent = "\n".join(parameters)
    assert digest in sent, "the lookup goes by digest"
    for role in ("company A", "revoked", "malformed"):
        presented = api.headers[role]["Authorization"].removeprefix("Bearer ")
        assert presented not in sent, f"the {role} token reached the database in plain text"
    assert token not in sent


def test_no_token_or_digest_is_compared_with_a_plain_equality_in_the_api():
    """Structural: outside SQL expressions (column == value, evaluated by the database on
    digests), token material is compared only with hmac.compare_digest."""
    secret = re.compile(r"token|digest|hash|secret|password", re.IGNORECASE)
    offenders = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or not any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(operand, ast.Attribute) and isinstance(operand.value, ast.Attribute)
                   and operand.value.attr == "c" for operand in operands):
                continue  # an SQLAlchemy column expression
            names = [ast.unparse(operand) for operand in operands]
            if any(secret.search(name) and not name.startswith(("'", '"')) for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []
    source = (ROOT / "api" / "tokens.py").read_text()
    assert "hmac.compare_digest" in source and "hashlib.sha256" in source
