"""A small reverse proxy for the tests, as nginx behaves with
`proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for` and
`proxy_set_header X-Forwarded-Proto https` (TLS ends at the proxy).

In a thread (`serve_in_thread`) or as a process of its own:

    python -m tests.security.reverse_proxy BACKEND_HOST BACKEND_PORT

which listens on a free loopback port and prints it on its first line of output.
"""

from __future__ import annotations

import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Proxy(BaseHTTPRequestHandler):
    backend: tuple[str, int]
    proto: str | None = None

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "x-forwarded-proto")}
        prior = self.headers.get("X-Forwarded-For")
        peer = self.client_address[0]
        headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
        if self.proto:
            headers["X-Forwarded-Proto"] = self.proto
        upstream = http.client.HTTPConnection(*self.backend, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


def make_server(backend: tuple[str, int], proto: str | None = None) -> ThreadingHTTPServer:
    handler = type("BoundProxy", (Proxy,), {"backend": backend, "proto": proto})
    return ThreadingHTTPServer(("127.0.0.1", 0), handler)


def serve_in_thread(backend: tuple[str, int]) -> ThreadingHTTPServer:
    server = make_server(backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    server = make_server((sys.argv[1], int(sys.argv[2])), proto="https")
    print(server.server_address[1], flush=True)
    server.serve_forever()
