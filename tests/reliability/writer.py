"""One writer process of the concurrency test: reads its orders as JSON on stdin, sends signed
pledges to the server over one keep-alive connection, prints one JSON line per response.

Orders: {"port", "origin", "actor", "private_key" (base64 raw), "process", "count"}. Every fifth
pledge is sent a second time unchanged (a retry: the original result again), every seventh a
second time with another amount under the same idempotency key (a conflict: nothing stored)."""

from __future__ import annotations

import base64
import http.client
import json
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import payloads
from ledger.client import Signer

PROGRAMME = "sertakan-2025"  # tests/integration/support.py opens it
WHEN = "2025-02-01T00:00:00Z"
MAX_BUSY_RETRIES = 50


def main() -> None:
    orders = json.load(sys.stdin)
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(orders["private_key"]))
    signer = Signer(orders["origin"], orders["actor"], key)
    connection = http.client.HTTPConnection("127.0.0.1", orders["port"], timeout=600)  # a loaded machine is slow, never silent
    for number in range(orders["count"]):
        name = f"w{orders['process']}-{number}"
        document = signer.one(name, "pledge.made", WHEN, payloads.pledge(PROGRAMME, name, 1_000_000 + number))
        attempts = [("new", document)]
        if number % 5 == 0:
            attempts.append(("retry", document))
        if number % 7 == 0:
            attempts.append(("conflict", signer.one(name, "pledge.made", WHEN, payloads.pledge(PROGRAMME, name, 7))))
        for kind, body in attempts:
            status, result, busy = _send(connection, json.dumps(body).encode())
            print(json.dumps({"key": f"{orders['actor']}/{name}", "kind": kind, "status": status,
                              "result": result, "busy": busy}), flush=True)
    connection.close()


def _send(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, dict, int]:
    """POST, waiting and retrying as told while the server answers 503 with Retry-After."""
    for busy in range(MAX_BUSY_RETRIES):
        connection.request("POST", "/api/v1/submissions", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        result = json.loads(response.read())
        if response.status != 503 or "Retry-After" not in response.headers:
            return response.status, result, busy
        time.sleep(float(response.headers["Retry-After"]))
    return 503, result, MAX_BUSY_RETRIES


if __name__ == "__main__":
    main()
