"""What the load watches besides latency: the server workers' memory, and slow clients that
hold connections open with half a request."""

from __future__ import annotations

import socket
import threading
from pathlib import Path


SAMPLE_EVERY_SECONDS = 2.0


def worker_pids(arbiter: int) -> list[int]:
    """The gunicorn workers: the children of the arbiter process."""
    try:
        return sorted(int(pid) for pid in Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split())
    except OSError:
        return []


def resident_kb(pid: int) -> int | None:
    """VmRSS of a process in kB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Reads the workers' VmRSS every few seconds: first, last and highest per worker."""

    def __init__(self, arbiter: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.arbiter, self.stop = arbiter, stop
        self.samples: dict[int, list[int]] = {}

    def sample(self) -> None:
        for pid in worker_pids(self.arbiter):
            kilobytes = resident_kb(pid)
            if kilobytes is not None:
                self.samples.setdefault(pid, []).append(kilobytes)

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY_SECONDS):
            self.sample()

    def summary(self) -> dict:
        return {str(pid): {"start_mb": values[0] / 1024, "halfway_mb": values[len(values) // 2] / 1024,
                           "end_mb": values[-1] / 1024, "max_mb": max(values) / 1024,
                           "growth_mb": (values[-1] - values[0]) / 1024, "samples": len(values)}
                for pid, values in self.samples.items()}


# ---- slow clients ----------------------------------------------------------------------------


class SlowClients(threading.Thread):
    """Keeps `count` connections open that sent half a request head and never finish it (the
    server answers each 408 after its head timeout; a closed one is opened again at once)."""

    PARTIAL_HEAD = b"GET /api/v1/health HTTP/1.1\r\nHost: slow\r\n"

    def __init__(self, port: int, count: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.count, self.stop = port, count, stop
        self.sockets: list[socket.socket] = []
        self.opened = 0

    def _open(self) -> socket.socket:
        client = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        client.sendall(self.PARTIAL_HEAD)
        client.setblocking(False)
        self.opened += 1
        return client

    def _still_open(self, client: socket.socket) -> bool:
        try:
            if client.recv(4096) == b"":
                client.close()
                return False
            client.close()  # answered (408): the server gave up on it
            return False
        except BlockingIOError:
            return True
        except OSError:
            client.close()
            return False

    def run(self) -> None:
        self.sockets = [self._open() for _ in range(self.count)]
        while not self.stop.wait(0.5):
            self.sockets = [client for client in self.sockets if self._still_open(client)]
            self.sockets += [self._open() for _ in range(self.count - len(self.sockets))]
        for client in self.sockets:
            client.close()


# ---- running it ----------------------------------------------------------------------------
