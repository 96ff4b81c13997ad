"""The PDF of the signed award list of a year, with the city's award decision."""

from __future__ import annotations

from projections.render_charts import Pdf
from projections.render_document import finish, verification
from projections.render_page import MUTED, RANK_BY, count, decimal, money


def _award_decision(pdf: Pdf, award_list: dict) -> None:
    """Who decided the list, when, under which criteria, and the city's signature; or that the
    city has not decided yet, and whose criteria the list was computed under."""
    decision = award_list.get("decision")
    source = award_list.get("criteria_source")
    pdf.heading("Keputusan Pemerintah Kota", "The city's decision", keep_with=30)
    if not decision:
        criteria = (f"kriteria yang diterbitkan {source.get('legal_name')} pada {source.get('on')} (entri "
                    f"#{source.get('entry')}) / the criteria it published (entry #{source.get('entry')})") if source \
            else "kriteria bawaan, diasumsikan / default criteria, assumed"
        pdf.paragraph(f"Belum diputuskan / Not decided yet. Dihitung menurut / Computed under: {criteria}.", size=8)
        return
    pdf.meta([("Diputuskan oleh", "Decided by", f"{decision.get('legal_name')} ({decision.get('signed_by')})"),
              ("Tanggal keputusan", "Decided on", str(decision.get("on", ""))),
              ("Dicatat", "Recorded", str(decision.get("recorded_at", ""))),
              ("Entri keputusan", "Decision entry", f"#{decision.get('entry')}"),
              ("Entri kriteria", "Criteria entry", f"#{decision.get('criteria_entry')}"),
              ("Checkpoint", "Checkpoint", count((decision.get("checkpoint") or {}).get("tree_size", 0))),
              ("Kunci", "Key id", str(decision.get("key_id", "")))], label_width=52)
    pdf.mono_block("Tanda tangan Pemerintah Kota (Ed25519, base64)", "The city's signature",
                   str(decision.get("signature", "")))
    differences = decision.get("differences_from_current_figures") or []
    if differences:
        pdf.paragraph("Angka saat ini berbeda dari keputusan / Today's figures differ from the decision: "
                      + "; ".join(differences), size=7.5, color=MUTED, height=3.6)


def awards_pdf(award_list: dict) -> bytes:
    """The year's award list as a printable, bilingual A4 PDF."""
    year = str(award_list.get("year", ""))
    awarded = award_list.get("awarded") or []
    separate = award_list.get("not_awarded") or []
    criteria = award_list.get("criteria") or {}
    pdf = Pdf(f"Daftar Penerima Piagam Penghargaan / Award List {year}", str(award_list.get("ledger", "")))
    pdf.metadata(f"Daftar Penerima Piagam Penghargaan / Award List {year}", "Amanah award list")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.banner("AMANAH · PROGRAM CSR JAMINAN SOSIAL PEKERJA INFORMAL / INFORMAL WORKERS' SOCIAL SECURITY",
               f"Daftar Penerima Piagam Penghargaan / Award List {year}",
               "Perusahaan yang mendanai iuran BPJS Ketenagakerjaan pekerja informal melalui Baznas\n"
               "Companies that funded informal workers' BPJS Ketenagakerjaan premiums through Baznas")
    rank_by = RANK_BY.get(criteria.get("rank_by", "received_rupiah"), (criteria.get("rank_by", ""),) * 2)
    tiers = " · ".join(f"{tier.get('name')} ≥ {money(tier.get('min_received_rupiah', 0))}"
                       + (f", ≥ {count(tier['min_worker_months'])} pekerja-bulan/worker-months"
                          if tier.get("min_worker_months") else "") for tier in criteria.get("tiers") or [])
    pdf.meta([("Tahun", "Year", year),
              ("Perusahaan diundang", "Companies invited", count(award_list.get("companies_invited", 0))),
              ("Perusahaan berkontribusi", "Companies contributing", count(award_list.get("companies_contributing", 0))),
              ("Menerima piagam", "Awarded", count(len(awarded))),
              ("Dicatat terpisah", "Listed separately", count(len(separate))),
              ("Diundang, tidak berkontribusi", "Invited, did not contribute",
               count(len(award_list.get("invited_not_contributing") or []))),
              ("Peringkat menurut", "Ranked by", " / ".join(rank_by)),
              ("Kategori", "Tiers", tiers or "–"),
              ("Dibuat", "Generated", str(award_list.get("generated_at", "")))], label_width=94)
    exclusions = []
    if criteria.get("min_pledge_fulfilment_percent"):
        exclusions.append(f"janji dana terpenuhi kurang dari {criteria['min_pledge_fulfilment_percent']}% / pledge "
                          f"fulfilled less than {criteria['min_pledge_fulfilment_percent']}%")
    if criteria.get("exclude_open_reconciliation"):
        exclusions.append("butir rekonsiliasi terbuka / open reconciliation item")
    if criteria.get("excluded"):
        exclusions.append("dikecualikan oleh Pemerintah Kota / excluded by the city")
    if exclusions:
        pdf.ln(1)
        pdf.paragraph("Dicatat terpisah bila / Listed separately when: " + "; ".join(exclusions) + ".",
                      size=7.5, color=MUTED, height=3.6)
    _award_decision(pdf, award_list)

    pdf.heading("Penerima piagam", "Awarded companies", keep_with=25)
    if awarded:
        pdf.table([("Peringkat", "Rank"), ("Perusahaan", "Company"), ("Kategori", "Tier"),
                   ("Dana diterima", "Money received"), ("Setara setahun", "Full-year equiv.")],
                  [[str(entry.get("rank", "")), f"{entry.get('legal_name', '')}\n{entry.get('company', '')}",
                    str(entry.get("tier") or "–"), money(entry.get("received_rupiah", 0)),
                    decimal(entry.get("full_year_equivalent_workers", "0.00"))] for entry in awarded],
                  widths=(1.05, 3.0, 0.95, 1.55, 0.9), aligns=("CENTER", "LEFT", "CENTER", "RIGHT", "RIGHT"))
    else:
        pdf.paragraph("Tidak ada. / None.", color=MUTED)

    pdf.heading("Dicatat terpisah (tidak menerima piagam)", "Listed separately (not awarded)", keep_with=25)
    if separate:
        pdf.paragraph("Alasan dicetak sebagaimana ditandatangani di ledger. / Reasons are printed as signed in the "
                      "ledger.", size=7.5, color=MUTED, height=3.6)
        pdf.ln(1)
        pdf.table([("Perusahaan", "Company"), ("Dana diterima", "Money received"), ("Alasan", "Reasons")],
                  [[f"{entry.get('legal_name', '')}\n{entry.get('company', '')}", money(entry.get("received_rupiah", 0)),
                    "\n".join(entry.get("reasons") or [])] for entry in separate],
                  widths=(2.2, 1.3, 3.2), aligns=("LEFT", "RIGHT", "LEFT"))
    else:
        pdf.paragraph("Tidak ada. / None.", color=MUTED)

    absent = award_list.get("invited_not_contributing") or []
    pdf.heading("Diundang, tidak berkontribusi", "Invited, did not contribute", keep_with=25)
    if absent:
        pdf.table([("Perusahaan", "Company"), ("Diundang", "Invited on")],
                  [[f"{entry.get('legal_name', '')}\n{entry.get('company', '')}", str(entry.get("invited_on", ""))]
                   for entry in absent], widths=(4.2, 1.5), aligns=("LEFT", "LEFT"))
    else:
        pdf.paragraph("Tidak ada. / None.", color=MUTED)

    verification(pdf, award_list, "award-list.json")
    return finish(pdf, award_list, "award-list.json", "Signed award list (JSON)")
