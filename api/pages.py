"""The transparency page: server-rendered by the same app, no CDN, no script needed.
Bahasa Indonesia by default (?lang=en for English).

Signing in opens a server-side session (api/sessions.py): the cookie carries a random id only,
HttpOnly, SameSite=Lax, Secure over HTTPS. Every form that changes something carries a CSRF
token: the session's own once signed in, before that one from a SameSite=Strict cookie."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta, timezone

import marshmallow as ma
from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from api.auth import AUDITORS, services
from api.schemas import Day, WholeNumber
from api.sessions import PageSession
from api.svg import bar_chart, flow_column, flow_diagram
from ledger.errors import LedgerError
from ledger.witness_table import cosigned
from projections.formatting import number, rupiah
from projections.audit_queries import reconciliation
from projections.queries import programme_totals

blp = Blueprint("pages", __name__, template_folder="templates")
WIB = timezone(timedelta(hours=7), "WIB")
TEXT = {
    "title": ("Transparansi Dana CSR untuk Jaminan Sosial Pekerja Informal", "CSR money for informal workers' social security"),
    "subtitle": ("Program SERTAKAN Jakarta Utara: setiap rupiah dari perusahaan, melalui Baznas, ke iuran BPJS Ketenagakerjaan",
                 "SERTAKAN North Jakarta: every rupiah from companies, through Baznas, to BPJS Ketenagakerjaan premiums"),
    "scheme": ("Program SERTAKAN (\u201cSejahterakan Pekerja di Sekitar Anda\u201d) BPJS Ketenagakerjaan",
               "BPJS Ketenagakerjaan's SERTAKAN scheme (\u201cSejahterakan Pekerja di Sekitar Anda\u201d, "
               "care for the workers around you)"),
    "partners": ("Mitra", "Partners"),
    "claims": ("Klaim dan jejaknya", "Claims and their trace"),
    "claim_status": ("Status", "Status"), "incident": ("Kejadian", "Incident"),
    "story_counts": ("{invited} perusahaan diundang, {contributing} berkontribusi, {awarded} menerima piagam Wali Kota",
                     "{invited} companies invited, {contributing} contributed, {awarded} awarded by the mayor"),
    "pledged": ("Dijanjikan", "Pledged"), "received": ("Diterima Baznas", "Received by Baznas"),
    "amil": ("Hak amil", "Amil share"), "disbursed": ("Disalurkan ke BPJS", "Disbursed to BPJS"),
    "premiums": ("Iuran dibayar", "Premiums paid"),
    "fye": ("Pekerja setara setahun penuh", "Full-year-equivalent workers"),
    "distinct_workers": ("Pekerja berbeda (tidak dijumlahkan antarperusahaan)", "Distinct workers (not additive across companies)"),
    "distinct_reached": ("Pekerja berbeda dijangkau (tumpang tindih antarperusahaan)", "Distinct workers reached (overlapping between companies)"),
    "worker_months": ("Pekerja-bulan", "Worker-months"),
    "jkm_heirs": ("JKM dibayar ke ahli waris", "JKM (death) paid to heirs"),
    "jkk_worker": ("JKK dibayar ke pekerja", "JKK (work accident) paid to the worker"),
    "refunded": ("Iuran dikembalikan setelah kematian", "Premiums refunded after a death"),
    "pledged_first": ("Dijanjikan (janji awal)", "Pledged (as first made)"),
    "fulfilment": ("Pemenuhan janji awal", "Fulfilment of the first pledge"),
    "pledge_changes": ("Perubahan janji", "Pledge changes"), "reason": ("Alasan", "Reason"),
    "date": ("Tanggal", "Date"), "from": ("Dari", "From"), "to": ("Menjadi", "To"),
    "not_awarded": ("Berkontribusi, tidak menerima piagam", "Contributed, not awarded"),
    "invited_absent": ("Diundang, tidak berkontribusi", "Invited, did not contribute"),
    "invited_on": ("Diundang", "Invited on"),
    "views_behind": ("Tampilan tertinggal dari log", "The views are behind the log"),
    "flow": ("Aliran dana", "Money flow"), "coverage": ("Cakupan per bulan (pekerja-bulan)", "Coverage by month (worker-months)"),
    "awards": ("Daftar penerima piagam penghargaan", "Award list"), "rank": ("Peringkat", "Rank"),
    "decided": ("Diputuskan oleh {who} pada {on}, entri #{entry} (dicatat {recorded}), menurut kriteria entri #{criteria} "
                "pada checkpoint {size}. Tanda tangan Ed25519 (kunci {key}):",
                "Decided by {who} on {on}, entry #{entry} (recorded {recorded}), under the criteria of entry #{criteria} "
                "at checkpoint {size}. Ed25519 signature (key {key}):"),
    "not_decided": ("Belum diputuskan: daftar ini dihitung menurut {source}; Pemerintah Kota belum menandatangani keputusannya.",
                    "Not decided yet: this list is computed under {source}; the city has not signed its decision."),
    "criteria_published": ("kriteria yang diterbitkan {who} pada {on} (entri #{entry})",
                           "the criteria {who} published on {on} (entry #{entry})"),
    "criteria_assumed": ("kriteria bawaan (diasumsikan; Pemerintah Kota belum menerbitkan kriterianya)",
                         "default criteria (assumed: the city has not published its own)"),
    "decision_differs": ("Angka saat ini berbeda dari keputusan:", "Today's figures differ from the decision:"),
    "company": ("Perusahaan", "Company"), "tier": ("Kategori", "Tier"),
    "checkpoint": ("Checkpoint bertanda tangan terbaru", "Latest signed checkpoint"),
    "verify": ("Cara memverifikasi", "How to verify"),
    "witnessed": ("Ditandatangani bersama oleh saksi", "Cosigned by witnesses"),
    "not_witnessed": ("Belum ada saksi yang menandatangani checkpoint ini.", "No witness has cosigned this checkpoint yet."),
    "verify_text": ("Unduh bundel dan jalankan `amanah verify BUNDLE`, atau periksa checkpoint ini dengan kunci verifikasi dari /api/v1/keys; bukti inklusi dan konsistensi tersedia di /api/v1/proofs.",
                    "Export a bundle and run `amanah verify BUNDLE`, or check this checkpoint with the verifier key from /api/v1/keys; inclusion and consistency proofs are at /api/v1/proofs."),
    "signin": ("Masuk dengan token", "Sign in with a token"), "signout": ("Keluar", "Sign out"),
    "statement": ("Laporan dampak", "Impact statement"), "download": ("Unduh PDF", "Download PDF"),
    "reconciliation": ("Butir rekonsiliasi", "Reconciliation items"), "trace": ("Telusuri entri", "Trace an entry"),
    "none": ("Tidak ada", "None"), "language": ("English", "Bahasa Indonesia"),
    "companies": ("Perusahaan", "Companies"), "baznas": ("Baznas", "Baznas"), "bpjs": ("BPJS", "BPJS"),
    "period": ("Periode", "Period"), "unspent": ("Saldo belum terpakai", "Unspent balance held"),
    "outstanding": ("Janji belum dipenuhi", "Pledge outstanding"), "entry": ("Nomor entri", "Entry index"),
    "bad_token": ("Token tidak berlaku", "The token is not valid"),
    "bad_form": ("Formulir kedaluwarsa; muat ulang halaman dan coba lagi",
                 "The form has expired; reload the page and try again"),
}
SESSION_COOKIE, CSRF_COOKIE = "amanah_session", "amanah_csrf"
PERIOD = r"^[0-9]{4}(-H[12])?$"


class PageArgs(ma.Schema):
    """The page's query parameters, checked like the API's (other parameters are ignored)."""

    class Meta:
        unknown = ma.EXCLUDE

    lang = ma.fields.String(validate=ma.validate.OneOf(("id", "en")))
    period = ma.fields.String(validate=ma.validate.Regexp(PERIOD), load_default="2025")
    as_of = Day()
    index = WholeNumber(validate=ma.validate.Range(min=0, max=2**53 - 1))


def page_args() -> dict:
    """The query parameters, or a 400 page naming the first bad one."""
    try:
        return PageArgs().load({name: value for name, value in request.args.items() if value != ""})
    except ma.ValidationError as error:
        name, messages = next(iter(error.messages.items()))
        detail = f"{name}: {' '.join(messages) if isinstance(messages, list) else messages}"
        abort(Response(render_template("message.html", message=detail), status=400))


def language() -> str:
    return "en" if request.args.get("lang") == "en" else "id"


def signed_in_request() -> bool:
    """Whether this request belongs to a signed-in page (its answers must not be cached)."""
    return SESSION_COOKIE in request.cookies or request.path in ("/signin", "/signout") or \
        request.path.startswith("/me")


def current_session() -> PageSession | None:
    if "page_session" not in g:
        g.page_session = services().sessions.find(request.cookies.get(SESSION_COOKIE, ""))
    return g.page_session


def csrf_token() -> str:
    """The token the page's forms carry: the session's, or before sign-in the CSRF cookie's."""
    current = current_session()
    if current is not None:
        return current.csrf_token
    if "csrf" not in g:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        g.csrf = cookie if 30 <= len(cookie) <= 64 else secrets.token_urlsafe(32)
    return g.csrf


def _form_is_ours(expected: str | None) -> bool:
    given = request.form.get("csrf", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _secure() -> bool:
    setting = current_app.config.get("AMANAH_SECURE_COOKIES", "auto")
    return request.is_secure if setting == "auto" else setting


def _set_cookie(response: Response, name: str, value: str, same_site: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite=same_site, secure=_secure(), path="/")


@blp.after_request
def _keep_csrf_cookie(response: Response) -> Response:
    if "csrf" in g and request.cookies.get(CSRF_COOKIE) != g.csrf:
        _set_cookie(response, CSRF_COOKIE, g.csrf, "Strict")
    if "csrf" in g or g.get("page_session") is not None:  # a page holding a visitor's form token
        response.headers["Cache-Control"] = "no-store"
    return response


def texts() -> dict:
    position = 1 if language() == "en" else 0
    return {key: value[position] for key, value in TEXT.items()}


def money(amount: int) -> str:
    return rupiah(int(amount), language())


def decimal(text: str) -> str:
    """A decimal string ("737.42") in the page's language ("737,42" in Indonesian)."""
    whole, _, fraction = str(text).partition(".")
    separator = "," if language() == "id" else "."
    return f"{number(int(whole), language())}{separator}{fraction or '00'}"


@blp.app_context_processor
def helpers() -> dict:
    return {"t": texts(), "lang": language(), "money": money, "decimal": decimal, "wib": wib,
            "count": lambda value: number(value, language()),
            "other_lang": "id" if language() == "en" else "en", "csrf_token": csrf_token}


@blp.route("/")
def home():
    svc = services()
    svc.catch_up()
    with svc.runner.engine.connect() as connection:
        totals = programme_totals(connection)
    checkpoint = cosigned(svc.ledger, svc.ledger.latest_checkpoint())
    awards = None
    years = sorted({int(name[-4:]) for name in totals["programmes"] if name[-4:].isdigit()})
    if years:
        try:
            awards = svc.reports.awards(years[-1])
        except LedgerError:  # e.g. the views are behind: the page says so below
            awards = None
    months = _coverage_by_month()
    t = texts()
    jkm = totals["claims_paid"]["by_benefit"]["jkm"]
    stages = [(t["companies"], money(totals["received_rupiah"])), (t["baznas"], money(totals["disbursed_rupiah"])),
              (t["bpjs"], money(totals["premiums_rupiah"])), (t["fye"], decimal(totals["full_year_equivalent_workers"])),
              (t["jkm_heirs"], money(jkm["total_rupiah"]))]
    flow = flow_diagram(stages) + flow_column(stages)  # the style sheet shows one: a row, or a column on a phone
    chart = bar_chart(months, t["coverage"], format_value=lambda value: number(value, language()))
    return render_template("home.html", totals=totals, checkpoint=checkpoint, awards=awards, flow=flow, chart=chart,
                           views=svc.runner.status(), partners=_partners())


def _partners() -> list[str]:
    """The programme's partners as the ledger registered them: the city, Baznas, BPJS and those
    who read and verify (auditors, the city's CSR forum)."""
    from sqlalchemy import select

    from projections import tables as tables

    order = {"city": 0, "baznas": 1, "bpjs": 2, "auditor": 3}
    with services().runner.engine.connect() as connection:
        rows = connection.execute(select(tables.organisations.c.legal_name, tables.organisations.c.kind)
                                  .where(tables.organisations.c.kind.in_(tuple(order)))).all()
    return [name for name, kind in sorted(rows, key=lambda row: (order[row.kind], row.legal_name))]


def _claims(connection) -> list:
    """Every claim, the latest first, each linked to the trace of its payment (or filing)."""
    from sqlalchemy import select

    from projections import tables as tables

    return connection.execute(select(tables.claims).order_by(tables.claims.c.filed_index.desc()).limit(500)).all()


def wib(timestamp: str | None) -> str:
    """An RFC 3339 UTC time as Western Indonesian Time (UTC+7), the time North Jakarta reads."""
    if not timestamp:
        return ""
    moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).astimezone(WIB)
    return moment.strftime("%Y-%m-%d %H:%M:%S WIB")


def _coverage_by_month() -> list[tuple[str, int]]:
    from sqlalchemy import func, select

    from projections import tables as tables

    with services().runner.engine.connect() as connection:
        rows = connection.execute(select(tables.premiums.c.month, func.count()).where(
            tables.premiums.c.reversed.is_(False), tables.premiums.c.refunded.is_(False)).group_by(tables.premiums.c.month).order_by(tables.premiums.c.month))
        return [(month[5:] + "/" + month[2:4], int(count)) for month, count in rows]


@blp.route("/signin", methods=["POST"])
def signin():
    if not _form_is_ours(request.cookies.get(CSRF_COOKIE)):
        return render_template("message.html", message=texts()["bad_form"]), 403
    token = request.form.get("token", "").strip()
    holder = services().tokens.holder(token)
    if holder is None:
        return render_template("message.html", message=texts()["bad_token"]), 401
    response = redirect(url_for("pages.me", lang=language()))
    _set_cookie(response, SESSION_COOKIE, services().sessions.open(holder.organisation, holder.token_id), "Lax")
    return response


@blp.route("/signout", methods=["POST"])
def signout():
    current = current_session()
    if current is not None and not _form_is_ours(current.csrf_token):
        return render_template("message.html", message=texts()["bad_form"]), 403
    services().sessions.end(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(url_for("pages.home", lang=language()))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=_secure())
    return response


def _who() -> tuple[str, str]:
    current = current_session()
    organisation = services().ledger.organisation(current.organisation) if current else None
    if organisation is None:
        response = redirect(url_for("pages.home", lang=language()))
        if SESSION_COOKIE in request.cookies:
            response.delete_cookie(SESSION_COOKIE, path="/")
        abort(response)
    return organisation.organisation_id, organisation.kind


@blp.route("/me")
def me():
    organisation, kind = _who()
    args = page_args()
    svc = services()
    if kind == "company":
        year = args["period"]
        statement = svc.reports.statement(organisation, year)
        chart = bar_chart([(row["month"][5:], row["worker_months"]) for row in statement["by_month"]],
                          texts()["coverage"], format_value=lambda value: number(value, language()))
        return render_template("company.html", statement=statement, chart=chart, period=year)
    if kind in AUDITORS:
        svc.catch_up()
        with svc.runner.engine.connect() as connection:
            as_of = args["as_of"].isoformat() if "as_of" in args else "2025-12-31"
            items = reconciliation(connection, as_of)
            claims = _claims(connection)
        return render_template("auditor.html", items=items, organisation=organisation, claims=claims)
    return render_template("message.html", message=f"{organisation} ({kind})")


@blp.route("/me/statement.pdf")
def statement_pdf():
    from projections.render import statement_pdf as render_pdf

    organisation, kind = _who()
    if kind != "company":
        abort(403)
    document = services().reports.statement(organisation, page_args()["period"])
    response = Response(render_pdf(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="statement-{organisation}.pdf"'
    return response


@blp.route("/me/trace")
def trace():
    from api.resources.audit import trace_entry

    organisation, kind = _who()
    if kind not in AUDITORS:
        abort(403)
    index = page_args().get("index")
    result = trace_entry(index) if index is not None else None
    return render_template("trace.html", result=result, index=index)
