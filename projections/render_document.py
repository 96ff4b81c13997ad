"""What every PDF document ends with: the verification section (checkpoint, signature, how to
check) and the signed JSON embedded as an attachment; and the labels of months and entry ranges."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fpdf.enums import Align, XPos, YPos

from projections.render_charts import Pdf
from projections.render_page import BRAND, MONTHS_ID, MUTED, count


def month_label(month: str) -> str:
    try:
        return MONTHS_ID[int(month[5:7]) - 1]
    except (ValueError, IndexError):
        return month


def ranges_text(ranges: list) -> str:
    parts = [str(first) if first == last else f"{first}–{last}" for first, last in ranges]
    return ", ".join(parts) if parts else "–"


def _created(document: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(document.get("generated_at")).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def finish(pdf: Pdf, document: dict, attachment: str, description: str) -> bytes:
    # backslashreplace writes a lone surrogate as its JSON escape, so the attachment still parses back
    body = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8", "backslashreplace")
    created = _created(document)
    pdf.embed_file(bytes=body, basename=attachment, desc=description, mime_type="application/json",
                   modification_date=created, creation_date=created)
    if created is not None:
        pdf.set_creation_date(created)
    return bytes(pdf.output())


def verification(pdf: Pdf, document: dict, attachment: str) -> None:
    """Checkpoint, how to verify, and the signature block."""
    checkpoint = document.get("checkpoint") or {}
    signature = document.get("signature") or {}
    pdf.heading("Checkpoint ledger", "Ledger checkpoint", keep_with=40)
    pdf.paragraph("Angka di dokumen ini dihitung dari ledger sampai checkpoint bertanda tangan berikut. / "
                  "The figures in this document were computed from the ledger up to this signed checkpoint.",
                  size=8, color=MUTED)
    pdf.ln(1)
    pdf.meta([("Ukuran pohon", "Tree size", count(checkpoint.get("tree_size", 0))),
              ("Ledger", "Ledger", str(document.get("ledger", "")))], label_width=52)
    pdf.mono_block("Root (SHA-256, base64)", "Merkle tree root", str(checkpoint.get("root", "")))
    if checkpoint.get("note"):
        pdf.mono_block("Catatan bertanda tangan", "Signed note", str(checkpoint["note"]), size=7)
    context = signature.get("context", "amanah/document/v1")
    pdf.heading("Cara memverifikasi", "How to verify", keep_with=50)
    steps = [
        (f"Ambil checkpoint dari /api/v1/checkpoint di server ledger {document.get('ledger', '')}: ukuran pohon dan "
         "root di atas harus sama, atau checkpoint yang lebih baru harus konsisten dengannya "
         "(/api/v1/proofs/consistency).",
         "Fetch the checkpoint from /api/v1/checkpoint on the ledger server: the tree size and root above must "
         "match it, or a newer checkpoint must be consistent with them (/api/v1/proofs/consistency)."),
        (f"Periksa tanda tangan dengan kunci verifikasi yang tercetak di bawah. Tanda tangan Ed25519 mencakup "
         f"\"{context}\" dan baris baru, diikuti JCS (RFC 8785) dokumen JSON tanpa anggota \"signature\". "
         f"JSON bertanda tangan itu terlampir di PDF ini ({attachment}).",
         f"Check the signature with the verifier key printed below. The Ed25519 signature covers \"{context}\" "
         f"and a newline, followed by the JCS (RFC 8785) of the JSON document minus its \"signature\" member. "
         f"That signed JSON is attached to this PDF ({attachment})."),
        ("Jalankan `amanah verify` atas bundel ekspor ledger (`amanah export`) untuk memeriksa seluruh log, "
         "checkpoint, dan saldo sampai checkpoint ini.",
         "Run `amanah verify` on an exported ledger bundle (`amanah export`) to check the whole log, its "
         "checkpoints and balances up to this checkpoint."),
    ]
    for number_, (indonesian, english) in enumerate(steps, 1):
        pdf.ensure(16)
        pdf.font(8.5, bold=True, color=BRAND)
        pdf.cell(6, 4.2, f"{number_}.")
        pdf.font(8.5)
        pdf.multi_cell(pdf.content_width - 6, 4.2, indonesian, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_x(pdf.l_margin + 6)
        pdf.font(8, color=MUTED)
        pdf.multi_cell(pdf.content_width - 6, 4, english, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)
    pdf.heading("Tanda tangan", "Signature", keep_with=45)
    pdf.meta([("Algoritma", "Algorithm", str(signature.get("algorithm", ""))),
              ("Kanonikalisasi", "Canonicalisation", str(signature.get("canonicalisation", ""))),
              ("Konteks", "Context", str(context))], label_width=52)
    pdf.mono_block("Kunci verifikasi", "Verifier key", str(signature.get("verifier_key", "")))
    pdf.mono_block("Nilai tanda tangan (base64)", "Signature value (base64)", str(signature.get("value", "")))
