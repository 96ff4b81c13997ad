"""The error answers a client can get are in docs/openapi.json, by the public base's status: every
refusal below is made for real and its status must be documented for its operation."""

from __future__ import annotations

import pytest

from ledger import payloads
from tests.api.test_access_control import (  # noqa: F401 (the `api` fixture: every role's token)
    MATRIX, OPENAPI, A, api, call, is_problem, signed_pledge,
)
from tests.domain.conftest import PROGRAMME, programme  # noqa: F401

TOKEN_RULES = ("auditor", "company", "city")


def documented(method: str, path: str) -> set[str]:
    return set(OPENAPI["paths"][path][method]["responses"])


def test_every_route_behind_a_token_documents_401_with_its_challenge_and_403():
    for (method, path), (rule, _) in MATRIX.items():
        if rule in TOKEN_RULES:
            assert {"401", "403"} <= documented(method, path), (method, path)
    unauthorised = OPENAPI["components"]["responses"]["UNAUTHORIZED"]
    assert "WWW-Authenticate" in unauthorised["headers"] and "Unauthenticated" in unauthorised["description"]
    assert "Retry-After" in OPENAPI["components"]["responses"]["SERVICE_UNAVAILABLE"]["headers"]


def refusals(client) -> list[tuple[str, str, object, int]]:
    """(method, documented path, the response, the status it must have)."""
    auditor, city = client.headers["auditor"], client.headers["city"]
    pledge = signed_pledge(client, "documented-1")
    assert client.post("/api/v1/submissions", json=pledge).status_code == 201
    reused = client.programme.companies[A].one("documented-1", "pledge.made", "2025-05-01T00:00:00Z",
                                                payloads.pledge(PROGRAMME, "pl-other", 2_000_000))
    unknown_pledge = client.programme.baznas.one("documented-2", "donation.received", "2025-05-01T00:00:00Z",
                                                 payloads.receipt(PROGRAMME, "rc-x", A, 1_000, "2025-02-03", "pl-none"))
    forged = signed_pledge(client, "documented-4")
    forged["envelopes"][0]["payload"]["amount_rupiah"] = 2_000_000
    again = client.programme.companies[A].one("documented-3", "pledge.made", "2025-05-01T00:00:00Z",
                                              payloads.pledge(PROGRAMME, "pl-a", 1_000_000))
    submissions = "/api/v1/submissions"
    preview = "/api/v1/awards/{year}/preview"
    return [
        ("get", "/api/v1/trace/{index}", client.get("/api/v1/trace/999999", headers=auditor), 404),
        ("get", "/api/v1/trace/{index}", client.get("/api/v1/trace/1?format=doc", headers=auditor), 400),
        ("get", "/api/v1/entries", client.get("/api/v1/entries?limit=x", headers=auditor), 400),
        ("get", "/api/v1/companies/{company}/trace",
         client.get(f"/api/v1/companies/{A}/trace?receipt=rc-none", headers=auditor), 404),
        ("get", "/api/v1/proofs/inclusion", client.get("/api/v1/proofs/inclusion?index=9999&size=3"), 400),
        ("get", "/api/v1/awards/{year}", client.get("/api/v1/awards/1999"), 404),
        ("post", preview, client.post("/api/v1/awards/2025/preview", data="{}", headers=city), 415),
        ("post", preview, client.post("/api/v1/awards/2025/preview", json=[], headers=city), 400),
        ("post", submissions, client.post(submissions, data="{}", content_type="text/plain"), 415),
        ("post", submissions, client.post(submissions, json={}), 400),
        ("post", submissions, client.post(submissions, json=reused), 409),
        ("post", submissions, client.post(submissions, json=unknown_pledge), 404),
        ("post", submissions, client.post(submissions, json=again), 409),
        ("post", submissions, client.post(submissions, json=forged), 403),
    ]


def test_each_refusal_a_client_meets_is_documented_for_its_operation(api):
    for method, path, response, status in refusals(api):
        is_problem(response, status)
        assert str(status) in documented(method, path), (method, path, status, response.get_json())


@pytest.mark.parametrize(("method", "path"), sorted(key for key, (rule, _) in MATRIX.items() if rule in TOKEN_RULES))
def test_the_token_refusals_are_documented(api, method, path):
    url = MATRIX[(method, path)][1].format(company=A)
    for role, status in (("no token", 401), ("bpjs", 403)):
        response = call(api, method, url, role, 0)
        is_problem(response, status)
        assert str(status) in documented(method, path)
