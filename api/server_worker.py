"""The gunicorn worker `amanah serve` runs: gunicorn's threaded worker (gthread), except that a
request's head (request line and headers) is read by the worker's event loop, without a thread.

gthread hands a connection to a thread as soon as its first bytes arrive, and the thread then
blocks until the head is complete: a few clients that send half a head and stop hold every
thread. Here the loop reads heads without blocking and gives a connection to a thread only once
its head is complete, so clients that never finish cost a socket and a small buffer each, never a
thread; a head still incomplete after `head_timeout_s` is answered 408 and closed. A body of known
length is read the same way (within a per-worker memory budget) and may pause `stall_timeout_s`;
a chunked body is read by the thread, and a pause as long frees it (408). A client that does not
read its answer frees the thread after the same time.

Errors gunicorn itself raises (a bad request line, a too long URL, too many headers, a bad
Transfer-Encoding) are answered in the API's problem+json shape, saying what to change."""

from __future__ import annotations

import errno
import json
import re
import selectors
import socket
import time
from dataclasses import dataclass
from functools import partial

from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

MAX_HEAD_BYTES = 64 * 1024  # request line and headers together; a longer head is refused, 431
MAX_BUFFERED_BYTES = 128 * 1024 * 1024  # per worker: requests arriving; past it, threads read bodies
PROBLEM_TYPE = "https://amanah.example/problems/"


class HeadFirstWorker(ThreadWorker):
    """gthread that dispatches a connection to a thread only once its request head is complete."""

    head_timeout_s = 30.0  # set from Settings by api/server.py before the workers fork
    stall_timeout_s = 30.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.waiting: dict[int, _Waiting] = {}  # socket fd -> a request still arriving
        self.buffered_bytes = 0  # held in `waiting`, bounded by MAX_BUFFERED_BYTES

    def enqueue_req(self, conn):
        """Run `conn` in a thread if its request is complete; otherwise read it here first."""
        if self.cfg.is_ssl:
            return super().enqueue_req(conn)
        if not conn.initialized:
            conn.init()  # plain HTTP: only builds the parser, reads nothing
        waiting = _Waiting(conn, bytearray(conn.parser.unreader.take_buffered()),
                           time.monotonic() + self.head_timeout_s)
        if self._ready(waiting):
            return self._dispatch(waiting)
        conn.sock.setblocking(False)
        self.waiting[conn.sock.fileno()] = waiting
        self.buffered_bytes += len(waiting.data)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read, waiting))
        return None

    def _ready(self, waiting: _Waiting) -> bool:
        """Whether the request can go to a thread: its head is complete, and so is its body, unless
        the body's length is unknown (chunked) or buffering it would pass the worker's budget."""
        if waiting.body_end is None:
            head_end = _head_end(waiting.data)
            if head_end is None:
                return False
            length = _content_length(bytes(waiting.data[:head_end]))
            if length is None or self.buffered_bytes + length > MAX_BUFFERED_BYTES:
                return True  # the thread reads the body, each pause bounded by stall_timeout_s
            waiting.body_end = head_end + length
        return len(waiting.data) >= waiting.body_end

    def _dispatch(self, waiting: _Waiting) -> None:
        conn = waiting.conn
        conn.parser.unreader.unread(bytes(waiting.data))
        conn.data_ready = True
        conn.sock.setblocking(True)
        super().enqueue_req(conn)

    def _read(self, waiting: _Waiting, _fileobj) -> None:
        """The socket is readable: take what came without blocking; dispatch once complete."""
        try:
            data = waiting.conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        if not data:  # the client closed (its sending side at least)
            if waiting.body_end is None:
                return self._drop(waiting)
            self._stop_waiting(waiting)  # a body cut short: the application says so (400)
            return self._dispatch(waiting)
        waiting.data += data
        self.buffered_bytes += len(data)
        if waiting.body_end is not None:  # a body that keeps arriving may take its time
            waiting.deadline = time.monotonic() + self.stall_timeout_s
        if self._ready(waiting):
            self._stop_waiting(waiting)
            return self._dispatch(waiting)
        if waiting.body_end is None and len(waiting.data) > MAX_HEAD_BYTES:
            line_limit = self.cfg.limit_request_line + 2
            if b"\n" not in waiting.data[:line_limit]:
                return self._drop(waiting, 414, "the request line is too long: shorten the URL or its query "
                                                f"(at most {self.cfg.limit_request_line} bytes)")
            return self._drop(waiting, 431, "the request headers are too large: send fewer or shorter "
                                            f"headers (at most {MAX_HEAD_BYTES} bytes in all)")
        return None

    def _stop_waiting(self, waiting: _Waiting) -> None:
        if self.waiting.pop(waiting.conn.sock.fileno(), None) is not None:
            self.buffered_bytes -= len(waiting.data)
        try:
            self.poller.unregister(waiting.conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, waiting: _Waiting, status: int | None = None, detail: str = "") -> None:
        """Stop waiting for a request: answer `status` if given, then close."""
        self._stop_waiting(waiting)
        if status is not None:
            _write_problem(waiting.conn.sock, status, detail, blocking=False)
        self.nr_conns -= 1
        waiting.conn.close()

    def murder_pending(self):
        """Also close connections whose request did not arrive in time (408), and every unfinished
        request once the worker stops: none of them was accepted."""
        super().murder_pending()
        now = time.monotonic()
        for waiting in list(self.waiting.values()):
            if waiting.deadline <= now:
                detail = (f"the request headers did not arrive within {self.head_timeout_s:g} s"
                          if waiting.body_end is None else
                          f"the request body stopped arriving for {self.stall_timeout_s:g} s")
                self._drop(waiting, 408, detail)
            elif not self.alive:
                self._drop(waiting)

    def handle_request(self, req, conn):
        """Serve a parsed request; a body or a reader that stalls frees the thread in time."""
        conn.sock.settimeout(self.stall_timeout_s)
        return super().handle_request(req, conn)

    def handle_error(self, req, client, addr, exc):
        """gunicorn's own refusals in the API's problem+json shape (gunicorn sends HTML)."""
        status, detail = client_error(exc, self.cfg, self.stall_timeout_s)
        if status >= 500:
            self.log.exception("error handling a request")
            detail = "an unexpected error occurred in the server; nothing was stored"
        else:
            self.log.warning("refused a request from %s: %s", (addr or ("",))[0], exc)
        try:
            _write_problem(client, status, detail, blocking=True)
        except OSError:
            self.log.debug("could not send the error response")


@dataclass
class _Waiting:
    """A connection whose request is still arriving, read by the worker's loop."""

    conn: object
    data: bytearray
    deadline: float  # monotonic: the head's deadline, then the body's next stall deadline
    body_end: int | None = None  # once the head is in: where the body ends in `data`


def _head_end(data: bytearray) -> int | None:
    """Where the head ends (after its blank line), or None while it is incomplete."""
    ends = [found + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (found := data.find(mark)) >= 0]
    return min(ends) if ends else None


def _content_length(head: bytes) -> int | None:
    """The body's length when one plain Content-Length header gives it; None when the thread must
    read the body itself (chunked, Expect: 100-continue, several or odd lengths: gunicorn decides)."""
    lowered = head.lower()
    if b"\ntransfer-encoding:" in lowered or b"\nexpect:" in lowered:
        return None
    found = _CONTENT_LENGTH.findall(lowered)
    if len(found) != 1 or len(found[0]) > 9:
        return None
    return int(found[0])


_CONTENT_LENGTH = re.compile(rb"\ncontent-length:[ \t]*([0-9]+)[ \t]*\r?\n")


def client_error(exc: Exception, cfg, stall_timeout_s: float) -> tuple[int, str]:
    """(status, what to change) for an error gunicorn raised while reading a request."""
    if isinstance(exc, (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName,
                        http_errors.ConfigurationProblem)):
        return 500, ""  # the application's or the operator's fault, not the client's
    if isinstance(exc, http_errors.LimitRequestLine):
        return 414, ("the request line is too long: shorten the URL or its query "
                     f"(at most {cfg.limit_request_line} bytes)")
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return 431, (f"the request headers are too many or too large: at most {cfg.limit_request_fields} headers "
                     f"of {cfg.limit_request_field_size} bytes each")
    if isinstance(exc, http_errors.UnsupportedTransferCoding):
        return 501, "only the chunked Transfer-Encoding is supported"
    if isinstance(exc, http_errors.ExpectationFailed):
        return 417, "only 'Expect: 100-continue' is supported"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return 408, f"the request stalled for {stall_timeout_s:g} s"
    for kind, detail in _BAD_REQUESTS:
        if isinstance(exc, kind):
            return 400, f"{detail} ({exc})" if str(exc) else detail
    return 500, ""


_BAD_REQUESTS = [
    (http_errors.InvalidRequestLine, "the request line is not 'METHOD /path HTTP/1.1'"),
    (http_errors.InvalidRequestMethod, "the method is not a valid HTTP method"),
    (http_errors.InvalidHTTPVersion, "only HTTP/1.0 and HTTP/1.1 are served"),
    (http_errors.InvalidHeaderName, "a header name is not valid"),
    (http_errors.InvalidHeader, "a header is not valid, or Content-Length and Transfer-Encoding conflict"),
    (http_errors.ObsoleteFolding, "a header is folded over several lines, which HTTP/1.1 forbids"),
    (http_errors.InvalidChunkSize, "a chunk of the chunked body has an invalid size"),
    (http_errors.ChunkMissingTerminator, "a chunk of the chunked body does not end with CRLF"),
    (http_errors.InvalidChunkExtension, "a chunk extension of the chunked body is not valid"),
    (http_errors.InvalidSchemeHeaders, "the forwarded scheme headers contradict each other"),
    (http_errors.InvalidProxyLine, "the PROXY protocol line is not valid"),
    (http_errors.ParseException, "the request is not valid HTTP/1.1"),
]
_TITLES = {400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long", 417: "Expectation Failed",
           431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented"}


def _write_problem(sock, status: int, detail: str, *, blocking: bool) -> None:
    """Send a problem+json answer and mark the connection to close."""
    title = _TITLES.get(status, "Error")
    code = title.lower().replace(" ", "-")
    body = json.dumps({"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail,
                       "instance": "", "code": code}).encode()
    head = (f"HTTP/1.1 {status} {title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    try:
        if blocking:
            sock.settimeout(5)
            sock.sendall(head + body)
        else:
            sock.send(head + body)  # best effort: a client that does not read gets nothing
    except OSError as error:
        if error.errno not in (errno.EPIPE, errno.ECONNRESET, errno.EAGAIN, None):
            raise
