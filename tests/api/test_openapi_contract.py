"""The HTTP contract is explicit: every success answer in docs/openapi.json has a schema with named
fields (clients generate code from it), every error is documented as problem+json, and real
answers, on SQLite and PostgreSQL, carry exactly the documented fields with their types."""

from __future__ import annotations

import json
from pathlib import Path

import marshmallow as ma
import pytest

from api import answers, schemas, signed_answers
from api.app import create_app
from api.problems import MEDIA_TYPE
from ledger import payloads
from tests.domain.conftest import PROGRAMME
from tests.fuzz.conftest import MAJU, build_year

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
OPERATIONS = [(method, path, operation) for path, item in OPENAPI["paths"].items()
              for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")]
DOWNLOADS = {"text/csv", "text/plain", "application/pdf",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def typed(schema: dict) -> bool:
    """An object with named properties, or an array of such objects (not a bare {"type": "object"})."""
    schema = resolve(schema)
    if schema.get("type") == "array":
        return typed(schema.get("items", {}))
    return bool(schema.get("properties"))


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_success_answer_has_a_typed_schema(method, path, operation):
    successes = {status: answer for status, answer in operation["responses"].items() if status.startswith("2")}
    assert successes, "no success answer documented"
    for status, answer in successes.items():
        content = answer.get("content") or {}
        assert "application/json" in content, (status, "no JSON answer")
        for media_type, body in content.items():
            assert "schema" in body, (status, media_type, "no schema")
            if media_type in DOWNLOADS:
                assert body["schema"].get("type") == "string", (status, media_type)
            else:
                assert typed(body["schema"]), (status, media_type, "untyped object: declare a schema")


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_error_is_documented_as_a_problem(method, path, operation):
    for status, answer in operation["responses"].items():
        if status.startswith(("4", "5")) or status == "default":
            name = answer["$ref"].rsplit("/", 1)[-1]
            content = OPENAPI["components"]["responses"][name]["content"]
            assert list(content) == [MEDIA_TYPE], (status, content)
            assert resolve(content[MEDIA_TYPE]["schema"]) == OPENAPI["components"]["schemas"]["Problem"]


def schema_named(name: str) -> ma.Schema:
    """The marshmallow schema behind a component of docs/openapi.json."""
    for module in (answers, signed_answers, schemas):
        for candidate in (name, name + "Schema"):
            found = getattr(module, candidate, None)
            if isinstance(found, type) and issubclass(found, ma.Schema):
                return found()
    raise LookupError(name)


def documented_schema(path: str, method: str = "get") -> tuple[ma.Schema, bool]:
    schema = OPENAPI["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    many = schema.get("type") == "array"
    return schema_named((schema["items"] if many else schema)["$ref"].rsplit("/", 1)[-1]), many


@pytest.fixture
def year_app(programme):
    build_year(programme)
    auditor = programme.world.register("auditor-baznas", "auditor")
    app = create_app({"SETTINGS": programme.world.settings, "TESTING": True})
    token = app.extensions["amanah"].tokens.issue(auditor.actor)[0]
    yield app, {"Authorization": f"Bearer {token}"}
    app.extensions["amanah"].close()


ASKED = [  # (documented path, the request); each entry type is traced
    ("/api/v1/checkpoint", "/api/v1/checkpoint?format=json"), ("/api/v1/checkpoints", "/api/v1/checkpoints"),
    ("/api/v1/keys", "/api/v1/keys"), ("/api/v1/totals", "/api/v1/totals?year=2025"),
    ("/api/v1/totals", "/api/v1/totals"), ("/api/v1/health", "/api/v1/health"),
    ("/api/v1/proofs/inclusion", "/api/v1/proofs/inclusion?index=1&size=5"),
    ("/api/v1/proofs/consistency", "/api/v1/proofs/consistency?first=2&second=5"),
    ("/api/v1/entries", "/api/v1/entries?limit=50"), ("/api/v1/balances", "/api/v1/balances?as_of=2025-03-31"),
    ("/api/v1/reconciliation", "/api/v1/reconciliation"), ("/api/v1/funds", "/api/v1/funds?period=2025"),
    ("/api/v1/journal", "/api/v1/journal?from=2025-01-01&to=2025-12-31"),
    ("/api/v1/companies/{company}/statement", f"/api/v1/companies/{MAJU}/statement?year=2025"),
    ("/api/v1/companies/{company}/trace", f"/api/v1/companies/{MAJU}/trace"),
    ("/api/v1/awards/{year}", "/api/v1/awards/2025"), ("/api/v1/awards/{year}/preview", "/api/v1/awards/2025/preview"),
]


def test_real_answers_carry_exactly_the_documented_fields(year_app):
    app, auditor = year_app
    client = app.test_client()
    asked = ASKED + [("/api/v1/trace/{index}", f"/api/v1/trace/{index}")
                     for index in range(app.extensions["amanah"].ledger.size())]
    for documented, url in asked:
        response = client.get(url, headers=auditor)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        schema, many = documented_schema(documented)
        errors = schema.validate(response.get_json(), many=many)  # unknown fields are refused
        assert not errors, (url, errors)


def test_a_posted_preview_and_a_submission_answer_as_documented(year_app, programme):
    app, auditor = year_app
    client = app.test_client()
    criteria = client.get("/api/v1/awards/2025/preview").get_json()["criteria"]
    preview = client.post("/api/v1/awards/2025/preview", json=criteria, headers=auditor)
    schema, _ = documented_schema("/api/v1/awards/{year}/preview", "post")
    assert preview.status_code == 200 and not schema.validate(preview.get_json())
    document = programme.companies[MAJU].one("pledge-contract", "pledge.made", "2025-06-02T08:00:00Z",
                                             payloads.pledge(PROGRAMME, "pl-contract", 1_000_000))
    stored = client.post("/api/v1/submissions", json=document)
    assert stored.status_code == 201, stored.get_json()
    assert not schemas.SubmissionResultSchema().validate(stored.get_json())


def test_an_answer_is_sent_as_the_view_built_it():
    """Dumping is the identity: a field declared wrongly can never drop or recast a figure."""
    value = {"as_of": None, "accounts": {"a": 1}, "trial_balance_rupiah": 1, "undeclared": [1.5]}
    assert answers.BalancesAnswer().dump(value) is value
