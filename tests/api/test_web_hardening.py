"""The web edge, hardened (issue 14): page sessions that sign-out ends and CSRF on the forms,
expiring tokens kept where a views rebuild cannot drop them, strict dates and numbers in
parameters, CSV that no spreadsheet reads as a formula, and security headers."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import sqlite3

import pytest
from sqlalchemy import update

from api import tokens as token_module
from api.app import create_app
from ledger import signing
from ledger.client import public_key_b64
from ledger.errors import InvalidInput
from projections.render import awards_csv

AUDITOR, COMPANY = "auditor-baznas", "pt-maju-bersama"


def build_client(programme, **config):
    app = create_app({"SETTINGS": programme.world.settings, "TESTING": True, **config})
    client = app.test_client()
    client.services = app.extensions["amanah"]
    return client


@pytest.fixture
def client(programme):
    programme.pledge(COMPANY, "pl-1", 100_000_000)
    programme.receive(COMPANY, "rc-1", 60_000_000, "pl-1")
    programme.world.register(AUDITOR, "auditor")
    test_client = build_client(programme)
    test_client.tokens = {who: test_client.services.tokens.issue(who)[0] for who in (AUDITOR, COMPANY)}
    yield test_client
    test_client.services.close()


def bearer(client, who):
    return {"Authorization": f"Bearer {client.tokens[who]}"}


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, who):
    csrf = form_csrf(client.get("/").get_data(as_text=True))
    return client.post("/signin", data={"token": client.tokens[who], "csrf": csrf})


def set_cookie(response, name):
    return next(header for header in response.headers.getlist("Set-Cookie") if header.startswith(name + "="))


# ---- 3. sessions, CSRF, token expiry ------------------------------------------------------

def test_the_sign_in_cookie_is_an_opaque_session_that_sign_out_ends_for_every_copy(client):
    signed_in = sign_in(client, COMPANY)
    assert signed_in.status_code == 302
    cookie = set_cookie(signed_in, "amanah_session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here
    value = cookie.split(";")[0].split("=", 1)[1]
    assert client.tokens[COMPANY] not in cookie and "token" not in value and len(value) >= 40
    assert client.get("/me").status_code == 200
    csrf = form_csrf(client.get("/me").get_data(as_text=True))
    copied = client.application.test_client()
    copied.set_cookie("amanah_session", value)
    assert copied.get("/me").status_code == 200
    assert client.post("/signout", data={"csrf": csrf}).status_code == 302
    after = copied.get("/me")
    assert after.status_code == 302 and after.headers["Location"].startswith("/?")


def test_forms_without_their_csrf_token_are_refused(client):
    refused = client.post("/signin", data={"token": client.tokens[COMPANY]})
    assert refused.status_code == 403 and "amanah_session" not in str(refused.headers.getlist("Set-Cookie"))
    assert client.get("/me").status_code == 302  # not signed in
    sign_in(client, COMPANY)
    assert client.post("/signout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/me").status_code == 200  # still signed in


def test_revoking_the_token_ends_its_page_session(client):
    sign_in(client, AUDITOR)
    assert client.get("/me").status_code == 200
    [row] = [row for row in client.services.tokens.list() if row["organisation"] == AUDITOR]
    client.services.tokens.revoke(row["token_id"])
    assert client.get("/me").status_code == 302


@pytest.mark.parametrize("setting,base_url,secure", [
    ("auto", "http://localhost", False), ("auto", "https://localhost", True), (True, "http://localhost", True)])
def test_cookies_are_secure_over_https_or_when_the_setting_says_so(programme, setting, base_url, secure):
    client = build_client(programme, AMANAH_SECURE_COOKIES=setting)
    token = client.services.tokens.issue(COMPANY)[0]
    home = client.get("/", base_url=base_url)
    assert ("Secure" in set_cookie(home, "amanah_csrf")) == secure
    assert "SameSite=Strict" in set_cookie(home, "amanah_csrf")
    signed_in = client.post("/signin", base_url=base_url,
                            data={"token": token, "csrf": form_csrf(home.get_data(as_text=True))})
    assert ("Secure" in set_cookie(signed_in, "amanah_session")) == secure
    client.services.close()


def test_an_expired_token_is_refused_with_a_401_that_says_so(client):
    token, token_id = client.services.tokens.issue(AUDITOR, expires_in_days=30)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/entries", headers=headers).status_code == 200
    with client.services.tokens.engine.begin() as connection:
        connection.execute(update(token_module.tokens).where(token_module.tokens.c.token_id == token_id)
                           .values(expires_at="2020-01-01T00:00:00+00:00"))
    expired = client.get("/api/v1/entries", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]
    assert expired.get_json()["code"] == "token-expired"
    with pytest.raises(InvalidInput):
        client.services.tokens.issue(AUDITOR, expires_in_days=0)


# ---- 12. tokens survive a rebuilt or lost views database ---------------------------------

def test_tokens_survive_a_rebuild_and_a_lost_views_database(programme, tmp_path):
    views = tmp_path / "views.db"
    programme.world.register(AUDITOR, "auditor")
    settings = dataclasses.replace(programme.world.settings, views_url=f"sqlite:///{views}")
    client = build_client(programme, SETTINGS=settings)
    token = client.services.tokens.issue(AUDITOR)[0]
    client.services.runner.rebuild()
    assert client.get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.services.close()
    views.unlink()
    again = build_client(programme, SETTINGS=settings)
    assert again.get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again.services.close()


def test_tokens_an_older_version_kept_in_the_views_database_are_moved_beside_the_log(programme, tmp_path):
    views = tmp_path / "views.db"
    programme.world.register(AUDITOR, "auditor")
    token = token_module.PREFIX + "from-an-older-version-0123456789abcdef"
    digest = token_module.digest_of(token)
    with sqlite3.connect(views) as connection:  # the table as the previous version made it
        connection.execute("CREATE TABLE api_tokens (token_hash VARCHAR(64) PRIMARY KEY, token_id VARCHAR(16) "
                           "NOT NULL UNIQUE, organisation VARCHAR(64) NOT NULL, issued_at VARCHAR(32) NOT NULL, "
                           "revoked_at VARCHAR(32), label VARCHAR(200))")
        connection.execute("INSERT INTO api_tokens VALUES (?, ?, ?, '2025-01-01T00:00:00+00:00', NULL, 'old')",
                           (digest, digest[:16], AUDITOR))
    connection.close()
    settings = dataclasses.replace(programme.world.settings, views_url=f"sqlite:///{views}")
    client = build_client(programme, SETTINGS=settings)
    client.services.close()
    views.unlink()
    again = build_client(programme, SETTINGS=settings)
    assert again.get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again.services.close()


# ---- 5. dates ----------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "/api/v1/reconciliation?as_of=0001-01-01", "/api/v1/reconciliation?as_of=0002-01-01&undisbursed_days=3650",
    "/api/v1/reconciliation?as_of=9999-12-31", "/api/v1/reconciliation?as_of=2025-02-30",
    "/api/v1/balances?as_of=0001-01-01", "/api/v1/balances?as_of=garbage", "/api/v1/balances?as_of=2025-1-01",
])
def test_every_date_parameter_out_of_range_or_unreal_is_a_400_naming_it(client, query):
    response = client.get(query, headers=bearer(client, AUDITOR))
    body = response.get_json()
    assert response.status_code == 400 and response.mimetype == "application/problem+json", body
    assert body["errors"][0]["field"] == "as_of"


@pytest.mark.parametrize("as_of", ["garbage", "2025-02-30", "0001-01-01"])
def test_the_page_refuses_a_bad_date_naming_it(client, as_of):
    sign_in(client, AUDITOR)
    response = client.get(f"/me?as_of={as_of}")
    assert response.status_code == 400 and "as_of" in response.get_data(as_text=True)
    assert client.get("/me?as_of=2025-06-30").status_code == 200


# ---- 9. numbers and repeated parameters -------------------------------------------------

@pytest.mark.parametrize("spelling", ["1_0", "%20%2010%20", "%EF%BC%91%EF%BC%90", "%D9%A1%D9%A0", "+10", "10.0"])
def test_numbers_in_queries_are_ascii_digits_only(client, spelling):
    response = client.get(f"/api/v1/checkpoints?limit={spelling}")  # each spelling reads as 10 to int()
    assert response.status_code == 400 and response.get_json()["errors"][0]["field"] == "limit"
    assert client.get("/api/v1/checkpoints?limit=10").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/trace/%EF%BC%95", "/api/v1/trace/%D9%A5", "/api/v1/awards/%EF%BC%92025"])
def test_numbers_in_paths_are_ascii_digits_only(client, path):
    assert client.get(path, headers=bearer(client, AUDITOR)).status_code == 404


def test_the_page_reads_an_entry_index_in_ascii_digits_only(client):
    sign_in(client, AUDITOR)
    assert client.get("/me/trace?index=1").status_code == 200
    refused = client.get("/me/trace?index=%EF%BC%91")
    assert refused.status_code == 400 and "index" in refused.get_data(as_text=True)


@pytest.mark.parametrize("query,name", [("/api/v1/entries?limit=1&limit=2", "limit"),
                                        ("/api/v1/totals?year=2025&year=2026", "year"),
                                        ("/?lang=en&lang=id", "lang")])
def test_a_repeated_parameter_is_refused_naming_it(client, query, name):
    response = client.get(query, headers=bearer(client, AUDITOR))
    assert response.status_code == 400 and response.get_json()["errors"][0]["field"] == name


@pytest.mark.parametrize("name", ["\u200b\u200b", " \u200b\u2060 ", "PT Aman\u202eaT", "PT \u2067Aman\u2069"])
def test_a_legal_name_of_invisible_characters_or_with_bidi_controls_is_refused(programme, name):
    size = programme.ledger.size()
    with pytest.raises(InvalidInput) as refused:
        programme.ledger.submit(programme.world.registrar.one("reg-bad-name", "organisation.registered",
                                                             "2025-06-01T00:00:00Z", {
            "organisation": "pt-bad-name", "legal_name": name, "kind": "company",
            "public_key": public_key_b64(signing.generate())}))
    assert refused.value.field == "envelopes[0].payload.legal_name" and programme.ledger.size() == size


# ---- 6. CSV -------------------------------------------------------------------------------

def test_no_piece_of_a_csv_cell_reads_as_a_formula_whatever_the_separator():
    names = ["PT Aman;=1+1", "PT Baik,+2", "PT Cerah|@SUM(A1)", "PT Damai\t-3", "=HYPERLINK(\"x\")", "PT; =1"]
    document = {"year": 2025, "awarded": [{"rank": n, "tier": "gold", "company": f"pt-{n}", "legal_name": name,
                                           "received_rupiah": 1_000} for n, name in enumerate(names, 1)]}
    text = awards_csv(document)
    for delimiter in (",", ";", "\t", "|"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            for cell in row:
                assert not cell.lstrip(' "').startswith(("=", "+", "-", "@")), (delimiter, cell)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = next(row for row in rows if "legal_name" in row)
    first = rows[rows.index(header) + 1]
    assert first[header.index("legal_name")] == "PT Aman;'=1+1" and first[header.index("received_rupiah")] == "1000"
    assert '"PT Aman;\'=1+1"' in text and ',"gold",' in text  # text cells quoted, numbers bare


# ---- 7. headers ---------------------------------------------------------------------------

def test_pages_and_answers_carry_security_headers_and_the_page_has_no_inline_code(client):
    home = client.get("/")
    policy = home.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert home.headers["X-Content-Type-Options"] == "nosniff" and home.headers["Referrer-Policy"] == "no-referrer"
    html = home.get_data(as_text=True)
    assert "<script" not in html and "<style" not in html and " style=" not in html
    with client.get("/static/amanah.css") as style:
        assert style.status_code == 200 and style.mimetype == "text/css"
    assert client.get("/api/v1/health").headers["X-Content-Type-Options"] == "nosniff"


def test_token_protected_answers_are_not_stored_and_negotiated_ones_vary_by_accept(client):
    assert client.get("/api/v1/entries", headers=bearer(client, AUDITOR)).headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/api/v1/totals").headers.get("Cache-Control", "")
    assert client.get("/").headers["Cache-Control"] == "no-store"  # the sign-in form holds a CSRF token
    sign_in(client, COMPANY)
    assert client.get("/me").headers["Cache-Control"] == "no-store"
    statement = client.get(f"/api/v1/companies/{COMPANY}/statement?year=2025", headers=bearer(client, COMPANY))
    assert "Accept" in statement.headers["Vary"] and statement.headers["Cache-Control"] == "no-store"
    assert "Accept" in client.get("/api/v1/checkpoint").headers["Vary"]
    assert "Accept" in client.get("/api/v1/awards/2025?format=csv").headers["Vary"]


def test_a_doubled_slash_is_not_redirected_to_the_clients_host(client):
    response = client.get("/api/v1//health", headers={"Host": "evil.example"})
    assert response.status_code == 404 and "Location" not in response.headers
