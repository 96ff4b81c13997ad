"""The API through Flask's test client: endpoints, access by role, one problem shape for errors,
and the committed OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.app import create_app
from ledger import merkle, note, payloads
from ledger.documents import verify_document
from tests.domain.conftest import PROGRAMME

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(programme):
    programme.pledge("pt-maju-bersama", "pl-1", 100_000_000)
    programme.receive("pt-maju-bersama", "rc-1", 60_000_000, "pl-1")
    programme.receive("pt-sinar-laut", "rc-2", 10_000_000)
    app = create_app({"SETTINGS": programme.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    tokens = {organisation: services.tokens.issue(organisation)[0] for organisation in (
        "pt-maju-bersama", "pt-sinar-laut", "pemkot-jakarta-utara", "baznas-jakarta-utara", "bpjs-kelapa-gading")}
    world = programme.world
    auditor = world.register("auditor-baznas", "auditor")
    tokens["auditor-baznas"] = services.tokens.issue(auditor.actor)[0]
    revoked, revoked_id = services.tokens.issue("pt-maju-bersama")
    services.tokens.revoke(revoked_id)
    tokens["revoked"] = revoked
    tokens["bad"] = "amanah_not-a-token"
    test_client = app.test_client()
    test_client.programme, test_client.tokens = programme, tokens
    yield test_client
    services.close()


def auth(client, who):
    return {"Authorization": f"Bearer {client.tokens[who]}"} if who else {}


def is_problem(response, status):
    body = response.get_json(force=True)
    assert response.status_code == status, body
    assert response.mimetype == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_checkpoint_keys_and_proofs_verify_against_each_other(client):
    text = client.get("/api/v1/checkpoint")
    assert text.mimetype == "text/plain" and "\u2014" in text.get_data(as_text=True)
    keys = client.get("/api/v1/keys").get_json()
    name, public = note.parse_verifier_key(keys["checkpoint_key"])
    checkpoint = note.verify_checkpoint(text.get_data(as_text=True), name, public)
    assert client.get("/api/v1/checkpoint?format=json").get_json()["tree_size"] == checkpoint.size
    size = checkpoint.size
    proof = client.get(f"/api/v1/proofs/inclusion?index=3&size={size}").get_json()
    import base64

    assert merkle.verify_inclusion(base64.b64decode(proof["leaf_hash"]), 3, size,
                                   [base64.b64decode(h) for h in proof["proof"]], checkpoint.root)
    consistency = client.get(f"/api/v1/proofs/consistency?first=2&second={size}").get_json()
    assert merkle.verify_consistency(2, size, [base64.b64decode(h) for h in consistency["proof"]],
                                     base64.b64decode(consistency["first_root"]), checkpoint.root)
    assert any(organisation["kind"] == "company" for organisation in keys["organisations"])


def test_a_submission_is_created_then_replayed_and_refusals_change_nothing(client):
    programme = client.programme
    document = programme.companies["pt-maju-bersama"].one("http-1", "pledge.made", "2025-03-01T00:00:00Z",
                                                          payloads.pledge(PROGRAMME, "pl-http", 1_000_000))
    created = client.post("/api/v1/submissions", json=document)
    assert created.status_code == 201 and created.get_json()["checkpoint"]["tree_size"] > created.get_json()["last_index"]
    assert client.post("/api/v1/submissions", json=document).status_code == 200
    size = programme.ledger.size()
    other = programme.companies["pt-maju-bersama"].one("http-1", "pledge.made", "2025-03-01T00:00:00Z",
                                                       payloads.pledge(PROGRAMME, "pl-other", 1_000_000))
    is_problem(client.post("/api/v1/submissions", json=other), 409)
    forged = json.loads(json.dumps(document))
    forged["envelopes"][0]["idempotency_key"] = "http-2"
    is_problem(client.post("/api/v1/submissions", json=forged), 403)
    bad = is_problem(client.post("/api/v1/submissions", json={"envelopes": [], "signature": "x"}), 400)
    assert bad["errors"][0]["field"] == "envelopes"
    rule = programme.companies["pt-maju-bersama"].one("http-3", "pledge.made", "2025-03-01T00:00:00Z",
                                                      payloads.pledge(PROGRAMME, "pl-1", 5))
    is_problem(client.post("/api/v1/submissions", json=rule), 409)
    is_problem(client.post("/api/v1/submissions", data="{}", content_type="text/plain"), 415)
    is_problem(client.post("/api/v1/submissions", data=b"x" * (17 * 1024 * 1024), content_type="application/json"), 413)
    assert programme.ledger.size() == size


def test_a_writer_is_answered_before_the_views_catch_up_and_they_catch_up_soon_after_without_a_read(client):
    """The views' catch-up after a submission runs once the answer is sent (the server closes the
    response after writing it), in the process's follower thread, so the writer does not wait for
    it; the views are current soon after, with no read to pull them."""
    services = client.application.extensions["amanah"]
    services.catch_up()
    document = client.programme.companies["pt-maju-bersama"].one("http-views", "pledge.made", "2025-03-01T00:00:00Z",
                                                                 payloads.pledge(PROGRAMME, "pl-views", 2_000_000))
    response = client.post("/api/v1/submissions", json=document)
    assert response.status_code == 201
    assert services.runner.position() < services.runner.target()  # answered; the views not yet caught up
    response.close()
    assert services.follower.wait_idle(30)
    assert services.runner.position() == services.runner.target() == client.programme.ledger.size()


def test_submissions_in_quick_succession_are_caught_up_together(client):
    """Writers one after another: the follower gathers them and catches the views up once for
    several, not once per submission."""
    services = client.application.extensions["amanah"]
    services.catch_up()
    runs = []
    original = services.runner.run
    services.runner.run = lambda *arguments, **options: runs.append(original(*arguments, **options)) or runs[-1]
    services.follower.gather_s = 2.0  # a slow machine's five posts still fall in one gathering
    try:
        company = client.programme.companies["pt-maju-bersama"]
        for number in range(5):
            response = client.post("/api/v1/submissions", json=company.one(
                f"http-quick-{number}", "pledge.made", "2025-03-01T00:00:00Z",
                payloads.pledge(PROGRAMME, f"pl-quick-{number}", 1_000_000)))
            assert response.status_code == 201
            response.close()
        assert services.follower.wait_idle(30)
    finally:
        services.runner.run = original
    assert sum(runs) == 5 and len(runs) < 5, runs
    assert services.runner.position() == client.programme.ledger.size()


ENDPOINTS = {
    "/api/v1/totals": "public", "/api/v1/awards/2025": "public", "/api/v1/health": "public",
    "/api/v1/entries": "auditor", "/api/v1/balances": "auditor", "/api/v1/reconciliation?as_of=2025-12-31": "auditor",
    "/api/v1/trace/5": "auditor", "/api/v1/companies/pt-maju-bersama/statement?year=2025": "company-a",
    "/api/v1/companies/pt-maju-bersama/trace": "company-a",
}
ROLES = [None, "bad", "revoked", "pt-maju-bersama", "pt-sinar-laut", "auditor-baznas", "pemkot-jakarta-utara",
         "baznas-jakarta-utara", "bpjs-kelapa-gading"]


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_access_matrix(client, path):
    for role in ROLES:
        response = client.get(path, headers=auth(client, role))
        rule = ENDPOINTS[path]
        if rule == "public":
            expected = 200
        elif role in (None, "bad", "revoked"):
            expected = 401
        elif role == "auditor-baznas" or (rule == "company-a" and role == "pt-maju-bersama"):
            expected = 200
        else:
            expected = 403
        assert response.status_code == expected, (path, role, response.get_data(as_text=True)[:200])
        if expected != 200:
            is_problem(response, expected)


def test_a_company_statement_is_signed_and_comes_as_csv_and_pdf(client):
    headers = auth(client, "pt-maju-bersama")
    statement = client.get("/api/v1/companies/pt-maju-bersama/statement?year=2025", headers=headers).get_json()
    verify_document(statement, client.get("/api/v1/keys").get_json()["checkpoint_key"])
    assert statement["received_rupiah"] == 60_000_000 and statement["pledge_outstanding_rupiah"] == 40_000_000
    csv = client.get("/api/v1/companies/pt-maju-bersama/statement?period=2025-H1&format=csv", headers=headers)
    assert csv.mimetype == "text/csv" and '"received_rupiah",60000000' in csv.get_data(as_text=True).replace("\r", "")
    pdf = client.get("/api/v1/companies/pt-maju-bersama/statement?year=2025",
                     headers={**headers, "Accept": "application/pdf"})
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    balances = client.get("/api/v1/balances", headers=auth(client, "auditor-baznas")).get_json()
    assert balances["trial_balance_rupiah"] == 0


@pytest.mark.parametrize("request_args,status", [
    (("GET", "/api/v1/nothing-here"), 404), (("DELETE", "/api/v1/checkpoint"), 405),
    (("GET", "/api/v1/proofs/inclusion?index=x&size=1"), 400), (("GET", "/api/v1/proofs/inclusion?index=9999&size=1"), 400),
    (("GET", "/api/v1/entries?limit=5000"), 401), (("GET", "/api/v1/checkpoints?limit=0"), 400),
    (("GET", "/api/v1/totals?unknown=1"), 400),
])
def test_every_error_is_a_problem(client, request_args, status):
    method, path = request_args
    body = is_problem(client.open(path, method=method), status)
    if status == 405:
        assert "GET" in client.open(path, method=method).headers["Allow"]
    if status == 400 and "index=x" in path:
        assert body["errors"][0]["field"] == "index"


def test_an_unexpected_error_is_a_500_problem_without_a_trace(client):
    app = client.application

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    body = is_problem(client.get("/boom"), 500)
    assert "secret internals" not in json.dumps(body)


def test_the_committed_openapi_document_matches_the_code(client):
    served = client.get("/api/v1/openapi.json").get_json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert served == committed, "docs/openapi.json is stale: run scripts/openapi"
    assert served["openapi"].startswith("3.")
