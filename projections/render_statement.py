"""The PDF of a company's signed impact statement."""

from __future__ import annotations

from fpdf.enums import Align, XPos, YPos

from projections.render_charts import Pdf
from projections.render_document import finish, month_label, ranges_text, verification
from projections.render_page import BENEFITS, CATEGORIES, MUTED, SERIES, count, decimal, money


def statement_pdf(statement: dict) -> bytes:
    """A company's impact statement as a bilingual A4 PDF (see the module docstring)."""
    company = statement.get("company") or {}
    legal_name = str(company.get("legal_name") or company.get("organisation") or "")
    period = str(statement.get("period", ""))
    pdf = Pdf(f"Laporan Dampak / Impact Statement · {legal_name} · {period}", str(statement.get("ledger", "")))
    pdf.metadata(f"Laporan Dampak / Impact Statement {legal_name} {period}", "Amanah impact statement")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.banner("AMANAH · LEDGER CSR TERVERIFIKASI / VERIFIABLE CSR LEDGER", "Laporan Dampak / Impact Statement",
               "Dana CSR untuk iuran BPJS Ketenagakerjaan pekerja informal di Jakarta Utara, melalui Baznas\n"
               "CSR money for informal workers' BPJS Ketenagakerjaan premiums in North Jakarta, through Baznas")

    pdf.font(15, bold=True)
    pdf.multi_cell(pdf.content_width, 7, legal_name, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.meta([("ID organisasi", "Organisation ID", str(company.get("organisation", ""))),
              ("Periode", "Period", f"{period} ({statement.get('from', '')} – {statement.get('to', '')})"),
              ("Dibuat", "Generated", str(statement.get("generated_at", ""))),
              ("Checkpoint", "Checkpoint", f"{count((statement.get('checkpoint') or {}).get('tree_size', 0))} entri / "
                                           "entries")], label_width=46)
    pdf.ln(4)

    claims = statement.get("claims_paid") or {}
    jkm, jkk = ((claims.get("by_benefit") or {}).get(name) or {} for name in ("jkm", "jkk"))
    pdf.key_cards([
        (money(statement.get("received_rupiah", 0)), "Dana diterima Baznas", "Money received by Baznas", SERIES["received"]),
        (money(statement.get("premiums_funded_rupiah", 0)), "Iuran didanai", "Premiums funded", SERIES["premiums"]),
        (decimal(statement.get("full_year_equivalent_workers", "0.00")), "Setara pekerja setahun",
         "Full-year-equivalent workers", SERIES["worker_months"]),
        (count(statement.get("worker_months", 0)), "Pekerja-bulan", "Worker-months of coverage", SERIES["worker_months"]),
    ])

    pdf.heading("Angka utama", "Key figures", keep_with=60)
    figures = [
        ("Dana dijanjikan (janji awal)", "Money pledged (as first pledged)", money(statement.get("pledged_rupiah", 0))),
        ("Janji setelah perubahan", "Pledge after changes", money(statement.get("pledged_current_rupiah", 0))),
        ("Pemenuhan janji awal", "Fulfilment of the first pledge", _percent(statement.get("pledge_fulfilment_percent"))),
        ("Dana diterima Baznas", "Money received by Baznas", money(statement.get("received_rupiah", 0))),
        ("Janji belum dipenuhi", "Pledge outstanding", money(statement.get("pledge_outstanding_rupiah", 0))),
        ("Hak amil Baznas", "Baznas amil share", money(statement.get("amil_rupiah", 0))),
        ("Disalurkan ke BPJS", "Disbursed to BPJS", money(statement.get("disbursed_rupiah", 0))),
        ("Saldo terikat belum terpakai", "Unspent restricted balance held", money(statement.get("unspent_held_rupiah", 0))),
        ("Iuran didanai", "Premiums funded", money(statement.get("premiums_funded_rupiah", 0))),
        ("Iuran dikembalikan (setelah kematian)", "Premiums refunded (after a death)",
         money(statement.get("premiums_refunded_rupiah", 0))),
        ("Pekerja-bulan", "Worker-months of coverage", count(statement.get("worker_months", 0))),
        ("Pekerja setara setahun penuh", "Full-year-equivalent workers",
         f"{decimal(statement.get('full_year_equivalent_workers', '0.00'))} / "
         f"{decimal(statement.get('programme_full_year_equivalent_workers', '0.00'))}"),
        ("Pekerja dijangkau (tumpang tindih)", "Distinct workers reached (overlapping)",
         count(statement.get("distinct_workers_reached_overlapping", 0))),
        ("JKM dibayar ke ahli waris", "JKM paid to heirs", _claim_line(jkm)),
        ("JKK dibayar ke pekerja", "JKK paid to the worker", _claim_line(jkk)),
    ]
    for index, (indonesian, english, value) in enumerate(figures):
        pdf.ensure(6.2)
        y = pdf.get_y()
        if index % 2 == 0:
            pdf.set_fill_color(246, 248, 249)
            pdf.rect(pdf.l_margin, y, pdf.content_width, 6.2, style="F")
        pdf.set_x(pdf.l_margin + 2)
        pdf.bilingual(pdf.content_width - 52, 6.2, indonesian, english, size=9)
        pdf.font(9.5, bold=True)
        pdf.cell(48, 6.2, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    pdf.paragraph("Iuran didanai adalah bagian dana perusahaan ini dalam iuran yang dibayar. Pekerja-bulan dihitung "
                  "untuk iuran yang didanai terutama oleh perusahaan ini; pekerja setara setahun penuh = pekerja-bulan / "
                  "12 (dua desimal, dibagi antarperusahaan sehingga jumlahnya tepat sama dengan angka program, angka "
                  "kedua). Pekerja berbeda dijangkau tumpang tindih antarperusahaan dan tidak boleh dijumlahkan. / "
                  "Premiums funded is this company's share of the premiums paid. Worker-months count the premiums this "
                  "company was the main funder of; full-year-equivalent workers = worker-months / 12 (two decimals, "
                  "split between companies so that they add up exactly to the programme's figure, the second number). "
                  "Distinct workers reached overlap between companies and must not be added up.", size=7.5,
                  color=MUTED, height=3.6)
    _pledge_changes(pdf, statement.get("pledge_changes") or [])

    for key, indonesian, english, first in (
            ("by_category", "Per kategori pekerja", "By worker category", ("Kategori", "Category")),
            ("by_kelurahan", "Per kelurahan", "By kelurahan (urban village)", ("Kelurahan", "Urban village"))):
        groups = statement.get(key) or {}
        pdf.heading(indonesian, english, keep_with=25)
        if not groups:
            pdf.paragraph("Tidak ada. / None.", color=MUTED)
            continue
        rows = []
        for name, values in groups.items():
            label = " / ".join(CATEGORIES[name]) if key == "by_category" and name in CATEGORIES else str(name)
            rows.append([label, count(values.get("worker_months", 0)), money(values.get("premiums_funded_rupiah", 0))])
        pdf.table([first, ("Pekerja-bulan", "Worker-months"), ("Iuran didanai", "Premiums funded")], rows,
                  widths=(2.2, 1, 1.2), aligns=("LEFT", "RIGHT", "RIGHT"))

    pdf.heading("Manfaat dibayar", "Benefits paid", keep_with=30)
    pdf.paragraph("Dibayar BPJS Ketenagakerjaan dari dana jaminannya (bukan dari dana CSR) untuk kejadian pada bulan yang "
                  "iurannya didanai perusahaan ini. JKM (kematian) dibayar kepada ahli waris; JKK (kecelakaan kerja) "
                  "kepada pekerja, atau ahli warisnya bila fatal. Keduanya tidak dijumlahkan.", size=8.5)
    pdf.paragraph("Paid by BPJS Ketenagakerjaan from its insurance fund (not from the CSR money) for incidents in months "
                  "whose premiums this company funded. JKM (death) is paid to the heirs; JKK (work accident) to the "
                  "worker, or the heirs when fatal. The two are not added together.", size=8, color=MUTED)
    pdf.ln(1.5)
    pdf.table([("Manfaat", "Benefit"), ("Dibayar kepada", "Paid to"), ("Jumlah klaim", "Claims"),
               ("Setiap pembayaran", "Each payment")],
              [[" / ".join(BENEFITS["jkm"]), "ahli waris / heirs", count(jkm.get("count", 0)), _amounts(jkm)],
               [" / ".join(BENEFITS["jkk"]), "pekerja / worker", count(jkk.get("count", 0)), _amounts(jkk)]],
              widths=(2.6, 1.1, 0.7, 1.8), aligns=("LEFT", "LEFT", "RIGHT", "RIGHT"))
    pdf.meta([("Entri ledger klaim", "Claim ledger entries", ranges_text([[i, i] for i in claims.get("entries", [])])),
              ("Entri dasar laporan", "Entries this rests on", ranges_text(statement.get("entries") or []))],
             label_width=62)

    months = statement.get("by_month") or []
    pdf.heading("Per bulan", "By month", keep_with=3 * 34)
    if months:
        labels = [month_label(str(month.get("month", ""))) for month in months]
        pdf.bar_panel("Dana diterima Baznas", "Money received by Baznas", labels,
                      [int(month.get("received_rupiah", 0)) for month in months], SERIES["received"], money)
        pdf.bar_panel("Iuran didanai", "Premiums funded", labels,
                      [int(month.get("premiums_funded_rupiah", 0)) for month in months], SERIES["premiums"], money)
        pdf.bar_panel("Cakupan: pekerja-bulan", "Coverage: worker-months", labels,
                      [int(month.get("worker_months", 0)) for month in months], SERIES["worker_months"], count)
        pdf.table([("Bulan", "Month"), ("Dana diterima", "Money received"), ("Iuran didanai", "Premiums funded"),
                   ("Pekerja-bulan", "Worker-months")],
                  [[str(month.get("month", "")), money(month.get("received_rupiah", 0)),
                    money(month.get("premiums_funded_rupiah", 0)), count(month.get("worker_months", 0))]
                   for month in months], widths=(1, 1.3, 1.3, 1), aligns=("LEFT", "RIGHT", "RIGHT", "RIGHT"), size=7.5,
                  padding=(0.6, 1.8), line_height=3.8)
    else:
        pdf.paragraph("Tidak ada data. / No data.", color=MUTED)

    verification(pdf, statement, "impact-statement.json")
    return finish(pdf, statement, "impact-statement.json", "Signed impact statement (JSON)")


def _percent(value: object) -> str:
    return "–" if value is None else f"{value}%"


def _amounts(item: dict) -> str:
    amounts = item.get("amounts_rupiah") or []
    return " + ".join(money(amount) for amount in amounts) if amounts else "–"


def _claim_line(item: dict) -> str:
    return f"{count(item.get('count', 0))} · {money(item.get('total_rupiah', 0))}"


def _pledge_changes(pdf: Pdf, changes: list[dict]) -> None:
    """Every amendment or cancellation of the pledge, with its date and reason: fulfilment is
    measured against the pledge as first made."""
    if not changes:
        return
    pdf.heading("Perubahan janji dana", "Pledge changes", keep_with=20)
    pdf.table([("Tanggal", "Date"), ("Perubahan", "Change"), ("Dari", "From"), ("Menjadi", "To"),
               ("Alasan", "Reason")],
              [[str(change.get("on", "")), "diubah / amended" if change.get("kind") == "amended" else "dibatalkan / cancelled",
                money(change.get("previous_rupiah", 0)), money(change.get("amount_rupiah", 0)),
                str(change.get("reason", ""))] for change in changes],
              widths=(1, 1.3, 1.2, 1.2, 2.2), aligns=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"))
