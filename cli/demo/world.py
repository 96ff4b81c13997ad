"""The demo's world: its constants and the state its builders share (signers, workers, claims,
the facts a newcomer can check)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.application import Ledger
from ledger.client import Signer
from ledger.config import Settings

PROGRAMME = "sertakan-jakut-2025"
WORKERS = 11_860
CONTRIBUTORS = 21
INVITED = 46
KELURAHAN = ("Kelapa Gading Barat", "Kelapa Gading Timur")
CATEGORY_WEIGHTS = (("ojek_online", 56), ("dasawisma", 38), ("jumantik", 3), ("pedagang_asongan", 3))
MONTHS = [f"2025-{month:02d}" for month in range(1, 13)]
WORDS = ("Samudera", "Nusantara", "Bahari", "Cahaya", "Mitra", "Karya", "Sentosa", "Maju", "Jaya", "Abadi",
         "Sinar", "Bintang", "Putra", "Tirta", "Garuda", "Mandiri", "Makmur", "Sejahtera", "Utama", "Lestari")
SECTORS = ("Logistik", "Terminal Peti Kemas", "Properti", "Energi", "Perkapalan", "Pangan", "Baja", "Kimia",
           "Ritel", "Konstruksi", "Galangan Kapal", "Farmasi", "Tekstil", "Pergudangan", "Otomotif")
GIVEN = ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Sri", "Andi", "Wati", "Joko", "Nur", "Yusuf", "Rina", "Hendra",
         "Ani", "Eko", "Lestari", "Bambang", "Fitri", "Dedi", "Yanti")
FAMILY = ("Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Pratama", "Setiawan", "Nugroho", "Purnomo",
          "Siregar", "Simanjuntak", "Lubis", "Hasibuan", "Rahman", "Gunawan")
Progress = Callable[[int, int], None]


@dataclass


class DemoWorld:
    ledger: Ledger
    settings: Settings
    signers: dict[str, Signer]
    secret: bytes
    rng: random.Random
    counter: int = 0
    workers: list[dict] = field(default_factory=list)
    claims: list[tuple] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    def submit(self, who: str, events: list[tuple[str, dict]], occurred_on: str, personal_data: dict | None = None) -> dict:
        self.counter += 1
        document = self.signers[who].submission(f"demo-{self.counter:05d}",
                                                [(kind, f"{occurred_on}T09:00:00Z", payload) for kind, payload in events])
        if personal_data:
            document["personal"] = personal_data
        return self.ledger.submit(document)
