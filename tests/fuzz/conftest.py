"""Fixtures for the fuzz tests: an API over a year of realistic data, tokens for two roles, the
state a refused request must leave untouched, and a tally of what was tried."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field

import pytest
from flask import Flask

from api.app import create_app
from ledger import payloads
from tests.domain.conftest import PROGRAMME, Programme, programme  # noqa: F401
from tests.niks import nik

MAJU, SINAR = "pt-maju-bersama", "pt-sinar-laut"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code"}


@dataclass
class Target:
    """An app under fuzzing, its data, and read tokens for an auditor and a company."""

    app: Flask
    programme: Programme
    tokens: dict[str, str]
    baseline: tuple = ()

    @property
    def services(self):
        return self.app.extensions["amanah"]

    @property
    def database(self) -> str:
        return self.services.settings.database_url.split(":", 1)[0].replace("postgresql", "postgres")

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}

    def quick_state(self) -> tuple:
        """The log's size, its latest checkpoint, and how far the views are: cheap, for each case."""
        ledger = self.services.ledger
        return ledger.size(), ledger.latest_checkpoint(), self.services.runner.position()

    def state(self) -> tuple:
        """What no refused request may change: the quick state and every view row."""
        return (*self.quick_state(), self.services.runner.dump())

    def unchanged(self) -> bool:
        return self.quick_state() == self.baseline[:3]


def build_year(p: Programme) -> None:
    """Pledges, receipts, an amil share, a disbursement, three enrolled workers, a premium batch
    and a filed claim: enough that every read endpoint has something to show and trace."""
    p.pledge(MAJU, "pl-1", 100_000_000)
    p.receive(MAJU, "rc-1", 60_000_000, "pl-1")
    p.receive(SINAR, "rc-2", 40_000_000)
    p.amil("rc-2", SINAR, 4_000_000)
    p.disburse("ds-1", [("rc-1", MAJU, 1_000_000), ("rc-2", SINAR, 500_000)])
    workers = [p.enrol(nik(number)) for number in range(3)]
    p.pay("b-2025-03", "ds-1", "2025-03", workers)
    p.ledger.submit(p.bpjs.one(p.key("claim"), "claim.filed", "2025-06-01T08:00:00Z", payloads.claim(
        PROGRAMME, "kl-1", workers[0], "jkm", incident_on="2025-03-20", filed_on="2025-03-25")))


@pytest.fixture
def target(programme) -> Target:
    build_year(programme)
    auditor = programme.world.register("auditor-baznas", "auditor")
    app = create_app({"SETTINGS": programme.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    tokens = {"auditor": services.tokens.issue(auditor.actor)[0], "company": services.tokens.issue(MAJU)[0]}
    services.catch_up()
    result = Target(app, programme, tokens)
    result.baseline = result.state()
    yield result
    services.close()


@pytest.fixture
def unchanged_target(target) -> Target:
    """The target, checked at the end to hold exactly the rows and entries it started with."""
    yield target
    assert target.state() == target.baseline, "a request changed the log or the views"


def problem_body(response) -> dict:
    """The RFC 9457 body of an error response (Flask's or Schemathesis'), checked against the
    project's problem shape."""
    if hasattr(response, "content"):  # Schemathesis: lower-case header names, lists of values
        media_type, data = response.headers.get("content-type", [""])[0], response.content
    else:
        media_type, data = response.headers.get("Content-Type", ""), response.get_data()
    assert media_type.split(";")[0] == "application/problem+json", (response.status_code, media_type, data[:300])
    body = json.loads(data)
    assert PROBLEM_FIELDS <= set(body), body
    assert body["status"] == response.status_code and body["type"].endswith(body["code"]), body
    for item in body.get("errors", []):  # "envelope": the position of the refused envelope, when known
        assert {"field", "detail"} <= set(item) <= {"field", "detail", "envelope"}, body
        assert isinstance(item["field"], str) and isinstance(item["detail"], str), body
        assert isinstance(item.get("envelope", 0), int), body
    assert "Traceback" not in json.dumps(body)
    return body


@dataclass
class Tally:
    """How many cases were tried, by what, with which outcome (printed with -s; written as JSON
    to $AMANAH_FUZZ_FIGURES when set)."""

    counts: Counter = field(default_factory=Counter)

    def add(self, *key: object) -> None:
        self.counts[" ".join(str(part) for part in key)] += 1


@pytest.fixture(scope="session")
def tally():
    result = Tally()
    yield result
    if not result.counts:
        return
    figures = dict(sorted(result.counts.items()))
    print("\nfuzz figures:\n" + "\n".join(f"  {count:6d}  {key}" for key, count in figures.items()))
    path = os.environ.get("AMANAH_FUZZ_FIGURES")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(figures) + "\n")
