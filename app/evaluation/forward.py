"""A local HTTP proxy that forwards POSTs to a target and shows each (request, reply) to a
callback: how the evaluation and the tests watch the traffic between two real servers."""
from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from typing import Callable

Seen = Callable[[bytes, bytes], None]   # (request body, reply body)


class ForwardingProxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target_url: str, seen: Seen, timeout: float = 120):
        self.target_url, self.seen, self.timeout = target_url.rstrip("/"), seen, timeout
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "ForwardingProxy":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


class _Forward(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        proxy: ForwardingProxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = urllib.request.Request(proxy.target_url + self.path, data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=proxy.timeout) as reply:
                status, data = reply.status, reply.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        proxy.seen(body, data)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
