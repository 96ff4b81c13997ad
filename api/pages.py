"""The transparency page: server-rendered by the same app, no CDN, no script needed.
Bahasa Indonesia by default (?lang=en for English).

Signing in opens a server-side session (api/sessions.py): the cookie carries a random id only,
HttpOnly, SameSite=Lax, Secure over HTTPS. Every form that changes something carries a CSRF
token: the session's own once signed in, before that one from a SameSite=Strict cookie."""

from __future__ import annotations

import hmac
import secrets

import marshmallow as ma
from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from api.auth import AUDITORS, services
from api.page_language import decimal, language, money, texts, wib
from api.schemas import Day, WholeNumber
from api.sessions import PageSession
from api.svg import bar_chart, flow_column, flow_diagram
from ledger.errors import LedgerError
from ledger.witness_table import cosigned
from projections.formatting import number
from projections.audit_queries import reconciliation
from projections.queries import programme_totals

blp = Blueprint("pages", __name__, template_folder="templates")
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
