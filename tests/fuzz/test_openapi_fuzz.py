"""Schemathesis fuzzes every operation of docs/openapi.json against the app over a year of data,
as an anonymous caller, an auditor and a company: no 5xx, every error a problem+json in the
project's shape, responses as documented, and nothing stored or changed by any request."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz.conftest import MAJU, problem_body

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
EXAMPLES_PER_OPERATION = 25
FUZZ_SETTINGS = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
WHO = ("anonymous", "auditor", "company")  # no token, an auditor's, and pt-maju-bersama's


@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_every_operation_refuses_cleanly_and_changes_nothing(unchanged_target, tally, case):
    target = unchanged_target
    for who in WHO:
        response = call_as(target, case, who)
        # Schema-valid requests may still be refused: the schema cannot say that a signature
        # must verify or that `index` must be below `size`.
        case.validate_response(response, excluded_checks=[positive_data_acceptance], headers=target.headers(who))
        assert response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            problem_body(response)
        assert target.unchanged(), (case.method, case.formatted_path, response.status_code)
        tally.add("openapi", target.database, case.operation.label, who, case.method,
                  f"{response.status_code // 100}xx")


def call_as(target, case, who: str):
    """Send the case with `who`'s token; a company asks for its own statement and trace, to get
    past 403 (and the case is left as generated, for Hypothesis to replay)."""
    generated = dict(case.path_parameters or {})
    if who == "company" and "company" in generated:
        case.path_parameters["company"] = MAJU
    try:
        return case.call(app=target.app, headers=target.headers(who))
    finally:
        if generated:
            case.path_parameters.update(generated)


@pytest.mark.parametrize("path", [
    "/api/v1/checkpoints?start_size={n}", "/api/v1/entries?start={n}", "/api/v1/proofs/inclusion?index={n}&size=2",
    "/api/v1/proofs/inclusion?index=0&size={n}", "/api/v1/proofs/consistency?first={n}&second=2",
    "/api/v1/proofs/consistency?first=1&second={n}", "/api/v1/trace/{n}",
])
def test_numbers_beyond_the_databases_64_bit_integers_are_refused_by_name(target, path):
    """Found by the fuzzer: start_size=144622648562004902543360 overflowed SQLite's INTEGER (a 500)."""
    for number in (2**53, 2**63, 2**64 + 1, 10**30):
        response = target.app.test_client().get(path.format(n=number), headers=target.headers("auditor"))
        body = problem_body(response)
        assert response.status_code in (400, 404), body
        parameter = path.split("{n}")[0].rsplit("?", 1)[-1].rsplit("&", 1)[-1].rstrip("=")
        if response.status_code == 400:
            assert body["errors"][0]["field"] == parameter, body
    assert target.state() == target.baseline
