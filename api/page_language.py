"""The transparency page's words and formats in its two languages: Bahasa Indonesia (the
default) and English (`?lang=en`), rupiah and decimals written the way each reads them, and
times in Western Indonesian Time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import request

from projections.formatting import number, rupiah

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


def language() -> str:
    return "en" if request.args.get("lang") == "en" else "id"


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


def wib(timestamp: str | None) -> str:
    """An RFC 3339 UTC time as Western Indonesian Time (UTC+7), the time North Jakarta reads."""
    if not timestamp:
        return ""
    moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).astimezone(WIB)
    return moment.strftime("%Y-%m-%d %H:%M:%S WIB")
