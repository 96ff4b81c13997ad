"""The transparency page: server-rendered by the same app, no CDN, no script needed.
Bahasa Indonesia by default (?lang=en for English)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for

from api.auth import AUDITORS, services
from api.svg import bar_chart, flow_diagram
from ledger.errors import LedgerError
from ledger.witness_table import cosigned
from projections.formatting import number, rupiah
from projections.queries import programme_totals, reconciliation

blp = Blueprint("pages", __name__, template_folder="templates")
TEXT = {
    "title": ("Transparansi Dana CSR untuk Jaminan Sosial Pekerja Informal", "CSR money for informal workers' social security"),
    "subtitle": ("Program SERTAKAN Jakarta Utara: setiap rupiah dari perusahaan, melalui Baznas, ke iuran BPJS Ketenagakerjaan",
                 "SERTAKAN North Jakarta: every rupiah from companies, through Baznas, to BPJS Ketenagakerjaan premiums"),
    "pledged": ("Dijanjikan", "Pledged"), "received": ("Diterima Baznas", "Received by Baznas"),
    "amil": ("Hak amil", "Amil share"), "disbursed": ("Disalurkan ke BPJS", "Disbursed to BPJS"),
    "premiums": ("Iuran dibayar", "Premiums paid"), "workers": ("Pekerja terlindungi", "Workers covered"),
    "worker_months": ("Pekerja-bulan", "Worker-months"), "claims": ("Manfaat dibayar ke keluarga", "Benefits paid to families"),
    "flow": ("Aliran dana", "Money flow"), "coverage": ("Cakupan per bulan (pekerja-bulan)", "Coverage by month (worker-months)"),
    "awards": ("Daftar penerima piagam penghargaan", "Award list"), "rank": ("Peringkat", "Rank"),
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
}


def language() -> str:
    return "en" if request.args.get("lang") == "en" else "id"


def texts() -> dict:
    position = 1 if language() == "en" else 0
    return {key: value[position] for key, value in TEXT.items()}


def money(amount: int) -> str:
    return rupiah(int(amount), language())


@blp.app_context_processor
def helpers() -> dict:
    return {"t": texts(), "lang": language(), "money": money, "count": lambda value: number(value, language()),
            "other_lang": "id" if language() == "en" else "en"}


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
        except LedgerError:
            awards = None
    months = _coverage_by_month()
    t = texts()
    flow = flow_diagram([(t["companies"], money(totals["received_rupiah"])), (t["baznas"], money(totals["disbursed_rupiah"])),
                         (t["bpjs"], money(totals["premiums_rupiah"])), (t["workers"], f"{totals['workers_covered']:,}"),
                         (t["claims"], money(totals["claims_paid"]["total_rupiah"]))])
    chart = bar_chart(months, t["coverage"])
    return render_template("home.html", totals=totals, checkpoint=checkpoint, awards=awards, flow=flow, chart=chart)


def _coverage_by_month() -> list[tuple[str, int]]:
    from sqlalchemy import func, select

    from projections import tables as tables

    with services().runner.engine.connect() as connection:
        rows = connection.execute(select(tables.premiums.c.month, func.count()).where(
            tables.premiums.c.reversed.is_(False)).group_by(tables.premiums.c.month).order_by(tables.premiums.c.month))
        return [(month[5:] + "/" + month[2:4], int(count)) for month, count in rows]


@blp.route("/signin", methods=["POST"])
def signin():
    token = request.form.get("token", "").strip()
    if services().tokens.holder(token) is None:
        return render_template("message.html", message=texts()["bad_token"]), 401
    session["token"] = token
    return redirect(url_for("pages.me", lang=language()))


@blp.route("/signout", methods=["POST"])
def signout():
    session.pop("token", None)
    return redirect(url_for("pages.home", lang=language()))


def _who() -> tuple[str, str]:
    holder = services().tokens.holder(session.get("token", ""))
    organisation = services().ledger.organisation(holder.organisation) if holder else None
    if organisation is None:
        session.pop("token", None)
        abort(redirect(url_for("pages.home", lang=language())))
    return organisation.organisation_id, organisation.kind


@blp.route("/me")
def me():
    organisation, kind = _who()
    svc = services()
    if kind == "company":
        year = request.args.get("period", "2025")
        statement = svc.reports.statement(organisation, year)
        chart = bar_chart([(row["month"][5:], row["worker_months"]) for row in statement["by_month"]],
                          texts()["coverage"])
        return render_template("company.html", statement=statement, chart=chart, period=year)
    if kind in AUDITORS:
        svc.catch_up()
        with svc.runner.engine.connect() as connection:
            items = reconciliation(connection, request.args.get("as_of", "2025-12-31"))
        return render_template("auditor.html", items=items, organisation=organisation)
    return render_template("message.html", message=f"{organisation} ({kind})")


@blp.route("/me/statement.pdf")
def statement_pdf():
    from projections.render import statement_pdf as render_pdf

    organisation, kind = _who()
    if kind != "company":
        abort(403)
    document = services().reports.statement(organisation, request.args.get("period", "2025"))
    response = Response(render_pdf(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="statement-{organisation}.pdf"'
    return response


@blp.route("/me/trace")
def trace():
    from api.resources.audit import trace_entry

    organisation, kind = _who()
    if kind not in AUDITORS:
        abort(403)
    index = request.args.get("index", type=int)
    result = trace_entry(index) if index is not None else None
    return render_template("trace.html", result=result, index=index)
