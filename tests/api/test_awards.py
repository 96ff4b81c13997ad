"""The city decides its award list: it publishes criteria, previews the list (a dry run), and
publishes its decision, each signed with its own key; the award list in JSON, CSV and PDF says
who decided and when, with the signature. Through the command line and the HTTP API."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader

from api.app import create_app
from api.signed_answers import AwardsAnswer
from ledger import signing
from ledger.domain.awards import DEFAULT_CRITERIA

A, B = "pt-maju-bersama", "pt-sinar-laut"
CITY = "pemkot-jakarta-utara"
CRITERIA = {**DEFAULT_CRITERIA, "exclude_open_reconciliation": False}


def amanah(world, *arguments, check=True):
    environment = {**os.environ, "AMANAH_HOME": str(world.settings.home),
                   "AMANAH_DATABASE_URL": world.settings.database_url}
    for name in ("AMANAH_KEY_PASSPHRASE", "AMANAH_CHECKPOINT_KEY_PASSPHRASE"):
        environment.pop(name, None)
    completed = subprocess.run([sys.executable, "-m", "cli", *arguments], env=environment, capture_output=True,
                               text=True, timeout=300, stdin=subprocess.DEVNULL)
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


@pytest.fixture
def given(programme, tmp_path):
    """Two companies gave in 2025 (B more than A); the city's key in a file; a criteria file."""
    programme.receive(A, "rc-a", 60_000_000)
    programme.receive(B, "rc-b", 150_000_000)
    signing.write_private_key(programme.city.private_key, tmp_path / "city.key", None)
    (tmp_path / "criteria.json").write_text(json.dumps(CRITERIA))
    programme.files = tmp_path
    return programme


def city_flags(given) -> list[str]:
    return ["--actor", CITY, "--key", str(given.files / "city.key"), "--no-passphrase"]


def test_criteria_preview_decision_and_verify_from_the_command_line(given):
    world = given.world
    preview = amanah(world, "award", "preview", "2025", "--criteria", str(given.files / "criteria.json"))
    lines = preview.stderr.splitlines()
    assert "2 awarded" in lines[0] and "criteria not published" in lines[0]
    assert B in lines[1] and "Madya" in lines[1] and A in lines[2] and "Pratama" in lines[2]
    size = world.ledger.size()
    (given.files / "bad.json").write_text(json.dumps({**CRITERIA, "rank_by": "profit"}))
    refused = amanah(world, "award", "criteria", "2025", str(given.files / "bad.json"), *city_flags(given),
                     check=False)
    assert refused.returncode == 2 and "criteria.rank_by" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and world.ledger.size() == size
    amanah(world, "award", "criteria", "2025", str(given.files / "criteria.json"), "--published-on", "2025-01-10",
           *city_flags(given))
    decided = json.loads(amanah(world, "award", "decide", "2025", "--decided-on", "2026-01-20",
                                *city_flags(given)).stdout)
    again = amanah(world, "award", "decide", "2025", *city_flags(given), check=False)
    assert again.returncode == 2 and "supersedes" in again.stderr
    assert amanah(world, "verify", "--db").stdout.strip().splitlines()[-1].startswith("OK:")
    document = json.loads(amanah(world, "awards", "2025").stdout)
    decision = document["decision"]
    assert (decision["entry"], decision["signed_by"], decision["on"]) == (decided["first_index"], CITY, "2026-01-20")
    assert [(item["rank"], item["company"]) for item in decision["awarded"]] == [(1, B), (2, A)]
    assert decision["differences_from_current_figures"] == []
    assert document["criteria_source"]["on"] == "2025-01-10" and document["criteria"] == CRITERIA
    _assert_signed_by_the_city(given, decision)


def _assert_signed_by_the_city(given, decision: dict) -> None:
    """The signature the document shows is the one stored with the decision entry, and it
    verifies under the city's key."""
    [(_, leaf)] = given.ledger.entries(decision["entry"], 1)
    entry = json.loads(leaf)
    assert entry["signature"] == decision["signature"] and entry["envelope"]["actor"] == CITY
    assert entry["envelope"]["key_id"] == decision["key_id"] and entry["envelope"]["type"] == "award.decided"


@pytest.fixture
def client(given):
    app = create_app({"SETTINGS": given.world.settings, "TESTING": True})
    services = app.extensions["amanah"]
    tokens = {who: services.tokens.issue(who)[0] for who in (CITY, A)}
    client = app.test_client()
    client.given, client.services = given, services
    client.as_ = {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}
    yield client
    services.close()


def test_the_list_says_its_criteria_are_assumed_until_the_city_publishes_its_own(client):
    document = client.get("/api/v1/awards/2025").get_json()
    assert document["decision"] is None and document["criteria_source"] is None
    assert document["criteria"] == DEFAULT_CRITERIA
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Not decided yet" in page and "assumed" in page


def test_a_preview_of_criteria_under_consideration_stores_nothing(client):
    size = client.given.ledger.size()
    preview = client.post("/api/v1/awards/2025/preview", json={**CRITERIA, "rank_by": "received_rupiah",
                                                               "excluded": [{"company": B, "reason": "audit"}]},
                          headers=client.as_[CITY])
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["preview"] is True and body["criteria_entry"] is None
    assert [item["company"] for item in body["awarded"]] == [A]
    assert body["not_awarded"][0]["reasons"] == ["excluded by the city: audit"]
    assert body["checkpoint"]["tree_size"] <= client.given.ledger.size() == size


@pytest.mark.parametrize("criteria, field", [
    ({**CRITERIA, "rank_by": "profit"}, "criteria.rank_by"),
    ({**CRITERIA, "tiers": "gold"}, "criteria.tiers"),
    ({k: v for k, v in CRITERIA.items() if k != "excluded"}, "criteria.excluded"),
    ([1, 2], "criteria"),
])
def test_bad_criteria_in_a_preview_are_refused_naming_the_field(client, criteria, field):
    response = client.post("/api/v1/awards/2025/preview", json=criteria, headers=client.as_[CITY])
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == field, response.get_json()


def test_only_the_city_and_auditors_preview_other_criteria(client):
    assert client.post("/api/v1/awards/2025/preview", json=CRITERIA).status_code == 401
    assert client.post("/api/v1/awards/2025/preview", json=CRITERIA, headers=client.as_[A]).status_code == 403
    assert client.post("/api/v1/awards/2025/preview", data="rank_by=x", headers=client.as_[CITY]).status_code == 415


def test_the_decision_is_shown_with_who_when_and_the_signature_in_every_format(client):
    given = client.given
    amanah(given.world, "award", "criteria", "2025", str(given.files / "criteria.json"), *city_flags(given))
    assert client.get("/api/v1/awards/2025/preview").get_json()["criteria_entry"] is not None
    amanah(given.world, "award", "decide", "2025", "--decided-on", "2026-01-20", *city_flags(given))
    document = client.get("/api/v1/awards/2025").get_json()
    decision = document["decision"]
    assert decision["legal_name"] == CITY.upper() and decision["on"] == "2026-01-20"
    assert not AwardsAnswer().validate(document), "the answer is as docs/openapi.json says (decision included)"
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/awards/2025?format=csv").get_data(as_text=True))))
    assert {(row["decided_by"], row["decided_on"], row["decision_entry"]) for row in rows} == {
        (CITY, "2026-01-20", str(decision["entry"]))}
    pdf = client.get("/api/v1/awards/2025?format=pdf").data
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert "Decided by" in text and CITY in text and "2026-01-20" in text
    assert decision["signature"] in text.replace(" ", "")
    page = client.get("/?lang=en").get_data(as_text=True)
    assert f"Decided by {CITY.upper()} on 2026-01-20" in page and decision["signature"] in page


def test_figures_changed_after_the_decision_are_named_on_the_list(client):
    given = client.given
    amanah(given.world, "award", "criteria", "2025", str(given.files / "criteria.json"), *city_flags(given))
    amanah(given.world, "award", "decide", "2025", *city_flags(given))
    receipt = given.receive(A, "rc-a-2", 500_000_000)  # after the decision: A would now rank first
    document = client.get("/api/v1/awards/2025").get_json()
    differences = document["decision"]["differences_from_current_figures"]
    assert any(f"{A}: decided rank 2" in item and "recomputed rank 1" in item for item in differences)
    assert receipt["first_index"] > document["decision"]["checkpoint"]["tree_size"]
    assert "figures differ from the decision" in client.get("/?lang=en").get_data(as_text=True)

