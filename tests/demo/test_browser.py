"""The transparency page in a real browser: Debian's Chromium driven by Playwright (no browser
downloads). Screenshots land in $AMANAH_SCREENSHOTS (default var/screenshots) for a person."""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("AMANAH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("AMANAH_SCREENSHOTS", "var/screenshots"))

if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)  # a phone
    yield context.new_page()
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def api(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=60) as response:
        return json.loads(response.read())


def tokens(home: Path) -> dict:
    return json.loads((home / "demo-tokens.json").read_text())


def test_the_totals_shown_equal_the_api(page, demo_server):
    totals = api(demo_server, "/api/v1/totals")
    page.goto(demo_server + "/?lang=en")
    shown = {element.get_attribute("data-total"): element.inner_text()
             for element in page.query_selector_all("[data-total]")}
    assert shown["received_rupiah"] == f"Rp{totals['received_rupiah']:,}"
    assert shown["premiums_rupiah"] == f"Rp{totals['premiums_rupiah']:,}"
    assert shown["distinct_workers"] == f"{totals['distinct_workers']:,}" == "11,860"
    whole, fraction = totals["full_year_equivalent_workers"].split(".")
    assert shown["full_year_equivalent_workers"] == f"{int(whole):,}.{fraction}"
    assert shown["jkm_paid_rupiah"] == f"Rp{totals['claims_paid']['by_benefit']['jkm']['total_rupiah']:,}"
    assert page.locator("svg.flow:visible").count() == 1 and page.locator("svg.chart").count() == 1
    assert page.locator("tr.award").count() == 21
    assert "\u2014" in page.locator("#checkpoint").inner_text()
    shot(page, "home-en")


def test_the_page_is_indonesian_by_default_and_switches_language(page, demo_server):
    page.goto(demo_server + "/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert "Pekerja setara setahun penuh" in page.content()
    assert page.locator("[data-total=distinct_workers]").inner_text() == "11.860"
    shot(page, "home-id")
    page.click("#lang-toggle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Full-year-equivalent workers" in page.content()


def test_a_company_signs_in_and_downloads_its_pdf(page, demo_server, demo_home, tmp_path):
    company, token = next((name, value) for name, value in tokens(demo_home).items() if name.startswith("company-"))
    page.goto(demo_server + "/?lang=en")
    page.fill("#token", token)
    page.click("#signin")
    page.wait_for_selector("#statement")
    statement = api_statement(demo_server, company, token)
    assert page.locator("[data-figure=premiums_funded_rupiah]").inner_text() == \
        f"Rp{statement['premiums_funded_rupiah']:,}"
    shot(page, "company")
    with page.expect_download() as download:
        page.click("#download-pdf")
    path = tmp_path / "statement.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 2000


def api_statement(base: str, company: str, token: str) -> dict:
    request = urllib.request.Request(f"{base}/api/v1/companies/{company}/statement?year=2025",
                                     headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_an_auditor_signs_in_and_opens_a_trace(page, demo_server, demo_home):
    page.goto(demo_server + "/?lang=en")
    page.fill("#token", tokens(demo_home)["auditor-baznas"])
    page.click("#signin")
    page.wait_for_selector("#reconciliation")
    shot(page, "auditor")
    facts = json.loads((demo_home / "demo-facts.json").read_text())
    page.fill("#trace-index", str(facts["tree_size"] - 10))
    page.click("#trace-go")
    page.wait_for_selector("#trace-type")
    assert page.locator("#trace-type").inner_text()
    shot(page, "trace")


def test_a_wrong_token_is_refused(page, demo_server):
    page.goto(demo_server + "/?lang=en")
    page.fill("#token", "amanah_not-a-token")
    page.click("#signin")
    assert "not valid" in page.locator("#message").inner_text()


LAYOUT = """() => {
  const doc = document.documentElement;
  const cut = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || ['PRE', 'INPUT', 'BUTTON'].includes(el.tagName)) continue;
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      cut.push(`${el.tagName}.${el.className} ${el.scrollWidth}>${el.clientWidth}: ${(el.innerText || '').slice(0, 40)}`);
    }
  }
  const outside = [];
  for (const svg of document.querySelectorAll('svg.flow')) {
    if (!svg.getBoundingClientRect().width) continue;  // the other layout's picture, hidden
    const boxes = [...svg.querySelectorAll('rect')].map(rect => rect.getBBox());
    for (const text of svg.querySelectorAll('text')) {
      const b = text.getBBox();
      const inside = boxes.some(r => b.x >= r.x - .5 && b.x + b.width <= r.x + r.width + .5
                                  && b.y >= r.y - .5 && b.y + b.height <= r.y + r.height + .5);
      if (!inside) outside.push(text.textContent);
    }
  }
  const charts = [...document.querySelectorAll('svg.chart text, svg.flow text')].map(text => text.textContent);
  return {scroll: [doc.scrollWidth, doc.clientWidth], cut, outside, charts};
}"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("reader", ["public", "company", "auditor-baznas"])
def test_nothing_is_cut_or_runs_off_the_page(browser, demo_server, demo_home, width, reader):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(demo_server + "/")
        if reader != "public":
            token = next(value for name, value in tokens(demo_home).items() if name.startswith(reader))
            page.fill("#token", token)
            page.click("#signin")
            page.wait_for_load_state()
            layout = page.evaluate(LAYOUT)
            shot(page, f"layout-{reader}-{width}")
            assert layout["scroll"][0] <= layout["scroll"][1], "the page scrolls sideways"
            assert layout["cut"] == [], "elements cut their text"
            return
        layout = page.evaluate(LAYOUT)
        shot(page, f"layout-id-{width}")
        assert layout["scroll"][0] <= layout["scroll"][1], "the page scrolls sideways"
        assert layout["cut"] == [], "elements cut their text"
        assert layout["outside"] == [], "flow labels leave their boxes"
        grouped = [text for text in layout["charts"] if any(char.isdigit() for char in text)]
        english = [text for text in grouped if re.search(r"\d,\d{3}(\D|$)", text)]  # 11,860 (not 11.025,17)
        assert grouped and not english, f"English grouping on the Indonesian page: {english}"
        assert page.locator("svg.flow:visible").count() == 1
    finally:
        context.close()


def test_the_page_tells_the_programme_story(page, demo_server):
    page.goto(demo_server + "/")
    story = page.locator("#story").inner_text()
    assert "SERTAKAN" in story and "Sejahterakan Pekerja di Sekitar Anda" in story
    assert "46 perusahaan diundang, 21 berkontribusi, 21 menerima piagam" in story
    for partner in ("Pemerintah Kota Administrasi Jakarta Utara", "BAZNAS Kota Jakarta Utara",
                    "BPJS Ketenagakerjaan Kantor Cabang Kelapa Gading", "Forum CSR Jakarta Utara"):
        assert partner in story
    assert "Rp42.000.000" in page.locator("[data-total=jkm_amounts]").inner_text()
    assert "WIB" in page.locator("#witnesses").inner_text()


def test_an_auditor_follows_a_claim_to_the_companies_that_paid_its_cover(page, demo_server, demo_home):
    facts = json.loads((demo_home / "demo-facts.json").read_text())
    page.goto(demo_server + "/?lang=en")
    page.fill("#token", tokens(demo_home)["auditor-baznas"])
    page.click("#signin")
    row = page.locator("tr.claim", has_text=facts["jkm_claim"])
    row.locator("a.claim-trace").click()
    page.wait_for_selector("#trace-backward")
    backward = json.loads(page.locator("#trace-backward").inner_text())
    assert backward["amount_rupiah"] == 42_000_000 and backward["funded_by"]
    assert {share["company"] for share in backward["funded_by"]} <= set(facts["contributors"])
    shot(page, "claim-trace")
