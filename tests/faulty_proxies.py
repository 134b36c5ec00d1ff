"""Loopback proxies that inject faults in front of real servers (moto S3, PostgreSQL, LLMs).

``FaultyHttpProxy`` answers the first ``fail_first`` requests (or all, with ``always_fail``)
with an S3-style ``500 InternalError`` (or the statuses of ``fail_statuses`` in turn, e.g.
429 with a ``Retry-After``) and forwards the rest to the target, which may be changed
(``target``) and whose loss is answered with 502; ``after_forward(n)`` runs after the n-th
forwarded reply (e.g. to kill the server behind). ``DroppingTcpProxy``
closes the first ``drop_first`` connections at once and pipes the rest to the target.
Both count what they did, so tests assert on retries without any timing.
"""

import contextlib
import http.client
import socket
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler, ThreadingTCPServer
from typing import Any
from urllib.parse import urlsplit

_ERROR_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
    b"<Message>injected fault</Message></Error>"
)
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}


class FaultyHttpProxy:
    """An HTTP proxy to ``target`` (``http://host:port``) failing some requests with 500."""

    def __init__(
        self,
        target: str,
        fail_first: int = 0,
        always_fail: bool = False,
        *,
        fail_statuses: Sequence[int] = (500,),
        retry_after: str | None = None,
        after_forward: Callable[[int], None] | None = None,
    ) -> None:
        self.target = urlsplit(target)
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.fail_statuses = tuple(fail_statuses)
        self.retry_after = retry_after
        self.after_forward = after_forward
        self.failed = 0
        self.forwarded = 0
        self.failed_by_status: dict[int, int] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    fail = proxy.always_fail or proxy.failed < proxy.fail_first
                    status = proxy.fail_statuses[proxy.failed % len(proxy.fail_statuses)]
                    if fail:
                        proxy.failed += 1
                        proxy.failed_by_status[status] = proxy.failed_by_status.get(status, 0) + 1
                if fail:
                    self._error(status)
                    return
                target = proxy.target
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS
                    }
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except OSError:
                    self._error(502)  # the target is gone
                    return
                finally:
                    conn.close()
                with proxy._lock:
                    proxy.forwarded += 1
                    forwarded = proxy.forwarded
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_HEADERS | {"content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.wfile.flush()
                if proxy.after_forward is not None:
                    proxy.after_forward(forwarded)

            def _error(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(_ERROR_BODY)))
                if proxy.retry_after is not None and status in (429, 503):
                    self.send_header("Retry-After", proxy.retry_after)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(_ERROR_BODY)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def retarget(self, target: str) -> None:
        """Forward to ``target`` from now on (a restarted server on a new port)."""
        self.target = urlsplit(target)

    def __enter__(self) -> "FaultyHttpProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class DroppingTcpProxy:
    """A TCP proxy to ``(host, port)`` that closes its first ``drop_first`` connections."""

    def __init__(self, host: str, port: int, drop_first: int) -> None:
        self.dropped = 0
        self.piped = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseRequestHandler):
            def handle(self) -> None:
                with proxy._lock:
                    drop = proxy.dropped < drop_first
                    if drop:
                        proxy.dropped += 1
                    else:
                        proxy.piped += 1
                if drop:
                    return  # the server closes the client socket
                upstream = socket.create_connection((host, port), timeout=30)
                pump = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
                pump.start()
                _pipe(self.request, upstream)
                pump.join()

        ThreadingTCPServer.allow_reuse_address = True
        self._server = ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def __enter__(self) -> "DroppingTcpProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
