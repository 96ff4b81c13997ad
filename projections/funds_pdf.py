"""The statement of changes in restricted funds (PSAK 109) as a printable A4 PDF, in Bahasa
Indonesia with English beneath, the JSON it was printed from attached."""

from __future__ import annotations

from projections.render_charts import Pdf
from projections.render_document import finish
from projections.render_page import money

COLUMNS = (("Saldo awal", "Opening"), ("Penerimaan", "Received"), ("Bagian amil", "Amil share"),
           ("Disalurkan ke BPJS", "To BPJS"), ("Pengembalian premi", "Refunds"), ("Saldo akhir", "Closing"))
KEYS = ("opening_rupiah", "received_rupiah", "amil_rupiah", "distributed_rupiah", "refunded_rupiah",
        "closing_rupiah")


def funds_pdf(report: dict) -> bytes:
    """Laporan perubahan dana terikat: one row per company, totals, the checkpoint it stands on."""
    title = f"Laporan Perubahan Dana Infak/Sedekah Terikat {report['period']}"
    pdf = Pdf(f"{title} / Statement of changes in restricted funds", str(report.get("ledger", "")))
    pdf.metadata(title, "PSAK 109 (PSAK 409)")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.banner("AMANAH · PSAK 109 (PSAK 409) · BAZNAS", title,
               f"Periode {report['from']} s.d. {report['to']} · Statement of changes in restricted "
               "(infak/sedekah terikat) funds, from the ledger's signed postings")
    checkpoint = report.get("checkpoint") or {}
    pdf.meta([("Standar", "Standard", report["standard"]),
              ("Dana", "Fund", "infak/sedekah terikat (restricted)"),
              ("Checkpoint", "Checkpoint",
               f"{checkpoint.get('tree_size', '')} · {checkpoint.get('root', '')}"),
              ("Dibuat", "Generated", str(report.get("generated_at", "")))], label_width=60)
    pdf.heading("Perubahan dana per perusahaan", "Changes per company", keep_with=25)
    rows = [[f"{row['legal_name']}\n{row['company']}", *(money(row[key]) for key in KEYS)]
            for row in report["companies"]]
    rows.append(["Jumlah / Total", *(money(report["total"][key]) for key in KEYS)])
    pdf.table([("Perusahaan", "Company"), *COLUMNS], rows, widths=(2.0, 1.1, 1.2, 1.05, 1.15, 1.35, 1.2),
              aligns=("LEFT", *(["RIGHT"] * 6)), size=6.8)
    pdf.ln(2)
    pdf.paragraph("Saldo akhir = saldo awal + penerimaan - bagian amil - disalurkan ke BPJS + pengembalian "
                  "premi, dan sama dengan saldo akun baznas:restricted:{perusahaan} pada akhir periode. / "
                  "Closing = opening + received - amil - to BPJS + refunds, equal to each company's "
                  "restricted account at the end of the period.", size=7.5, height=3.6)
    return finish(pdf, report, "funds.json", "Statement of changes in restricted funds (JSON)")
