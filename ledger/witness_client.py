"""The ledger asks its witnesses to cosign its checkpoints, after the append has committed.

Checkpoints are signed inside the append transaction; witnesses are asked afterwards, by a
background thread (the server) or once before a command finishes (the CLI), each request bounded
by a timeout and each round by a deadline, so a witness that is down or slow never holds a writer.
A witness that was down is caught up on its return: it answers 409 with the size it last
cosigned, and the next request carries the consistency proof from that size.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger import note
from ledger.errors import ConfigurationError, InvalidInput
from ledger.witness import add_checkpoint_body, find_cosignature, parse_cosigner_key
from ledger.witness_table import store_cosignature, witness_sizes

logger = logging.getLogger(__name__)
ATTEMPTS = 3  # a 409 costs one more request; more than this and something else is wrong


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness the ledger asks: its add-checkpoint URL prefix and its verifier key."""

    url: str
    verifier_key: str

    @property
    def name(self) -> str:
        return self.verifier_key.split("+", 1)[0]


def parse_witnesses(text: str) -> tuple[WitnessEndpoint, ...]:
    """AMANAH_WITNESSES: comma-separated 'URL VERIFIER_KEY' pairs (vkeys hold no spaces or commas)."""
    endpoints = []
    for position, item in enumerate(part.strip() for part in text.split(",")):
        if not item:
            continue
        parts = item.split()
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
            raise ConfigurationError(f"item {position} is not 'URL VERIFIER_KEY'", field="AMANAH_WITNESSES")
        try:
            parse_cosigner_key(parts[1])
        except InvalidInput as error:
            raise ConfigurationError(f"item {position}: {error.detail}", field="AMANAH_WITNESSES") from None
        endpoints.append(WitnessEndpoint(parts[0].rstrip("/"), parts[1]))
    if len({endpoint.verifier_key for endpoint in endpoints}) != len(endpoints):
        raise ConfigurationError("a witness is listed twice", field="AMANAH_WITNESSES")
    return tuple(endpoints)


class Witnessing:
    """Asks each configured witness to cosign the latest checkpoint and keeps what they return."""

    def __init__(self, ledger: Any, endpoints: Sequence[WitnessEndpoint], timeout_seconds: float = 3.0):
        self.ledger, self.endpoints, self.timeout_seconds = ledger, tuple(endpoints), timeout_seconds
        self.sizes = witness_sizes(ledger)  # the size each witness last cosigned, as far as we know

    def pending(self) -> list[WitnessEndpoint]:
        """Witnesses that have not cosigned the latest checkpoint yet."""
        latest = self.ledger.latest_checkpoint()
        if latest is None:
            return []
        return [endpoint for endpoint in self.endpoints
                if self.sizes.get(endpoint.verifier_key, 0) < latest["tree_size"]]

    def witness_latest(self, deadline_seconds: float | None = None) -> dict[str, str]:
        """One round: ask each witness that lacks the latest checkpoint; returns name -> outcome."""
        latest = self.ledger.latest_checkpoint()
        if latest is None:
            return {}
        deadline = time.monotonic() + (deadline_seconds or self.timeout_seconds * ATTEMPTS * len(self.endpoints))
        outcomes = {}
        for endpoint in self.pending():
            outcomes[endpoint.name] = self._ask(endpoint, latest, deadline)
        return outcomes

    def _ask(self, endpoint: WitnessEndpoint, checkpoint: dict, deadline: float) -> str:
        size = checkpoint["tree_size"]
        old = min(self.sizes.get(endpoint.verifier_key, 0), size)
        for _ in range(ATTEMPTS):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "not asked: the round's time is up"
            proof = [] if old in (0, size) else self._proof(old, size)
            try:
                status, content_type, text = _post(f"{endpoint.url}/add-checkpoint",
                                                   add_checkpoint_body(old, proof, checkpoint["note"]),
                                                   min(self.timeout_seconds, remaining))
            except OSError as error:
                logger.warning("witness %s unreachable: %s", endpoint.name, error)
                return f"unreachable: {error}"
            if status == 409 and content_type.startswith("text/x.tlog.size") and text.strip().isdigit():
                old = int(text.strip())  # the witness's size: prove consistency from there
                if old > size:
                    return f"the witness has cosigned size {old}, beyond our {size}"
                continue
            if status != 200:
                logger.error("witness %s refused checkpoint %d (%d): %s", endpoint.name, size, status, text.strip())
                return f"refused ({status}): {text.strip()}"
            return self._keep(endpoint, checkpoint, text)
        return "gave up after repeated 409s"

    def _proof(self, old: int, size: int) -> list[bytes]:
        import base64

        return [base64.b64decode(node) for node in self.ledger.consistency_proof(old, size)["proof"]]

    def _keep(self, endpoint: WitnessEndpoint, checkpoint: dict, response: str) -> str:
        """Keep the witness's cosignature if it is valid over this checkpoint."""
        try:
            combined = note.parse_checkpoint(checkpoint["note"] + response)
        except InvalidInput as error:
            return f"unreadable answer: {error.detail}"
        found = find_cosignature(combined, endpoint.verifier_key)
        if found is None:
            return "answered without a valid cosignature by its key"
        store_cosignature(self.ledger, checkpoint["tree_size"], combined.root, endpoint.verifier_key,
                          found.timestamp, found.line)
        self.sizes[endpoint.verifier_key] = checkpoint["tree_size"]
        return "cosigned"


def _post(url: str, body: bytes, timeout_seconds: float) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read(65536).decode()
    except urllib.error.HTTPError as error:
        text = error.read(65536).decode(errors="replace")
        return error.code, error.headers.get("Content-Type", ""), text


class WitnessWorker:
    """A daemon thread that keeps the witnesses up to date: woken after each write, and every
    `poll_seconds` anyway, so a witness that was down is caught up soon after it returns."""

    def __init__(self, witnessing: Witnessing, poll_seconds: float = 2.0):
        self.witnessing, self.poll_seconds = witnessing, poll_seconds
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="amanah-witnessing", daemon=True)

    def start(self) -> WitnessWorker:
        self.thread.start()
        return self

    def notify(self) -> None:
        """A checkpoint may have been signed: ask the witnesses soon."""
        self.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=self.witnessing.timeout_seconds * ATTEMPTS + 1)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(self.poll_seconds)
            self.wake.clear()
            if self.stopping.is_set():
                return
            try:
                if self.witnessing.pending():
                    self.witnessing.witness_latest()
            except Exception:  # the thread must outlive a database hiccup; the next round retries
                logger.exception("asking the witnesses failed")
