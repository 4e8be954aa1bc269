#!/usr/bin/env python3
"""An HTTPS webhook receiver that requires a client certificate, for Renkei's TLS delivery tests.

    receiver.py CERT KEY CLIENT_CA LOG READY [LIFETIME_S]

Serves on 127.0.0.1 on a free port; once listening it writes the port to READY (atomically).
Every request is appended to LOG as one JSON line and answered 204 (a path starting /hang gets
no answer for 20 s, to test the client's total timeout):
    {"method", "path", "client_cn", "headers": [[name, value bytes as hex], ...], "body": base64}
Header values are recorded as the bytes that came over the wire, so a test can compare them exactly.
A failed TLS handshake (no client certificate, an untrusted peer) is appended as
    {"handshake_error": "..."}
The server exits by itself after LIFETIME_S seconds (default 300) or when its parent goes away.
"""
import base64
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    cert, key, client_ca, log_path, ready_path = sys.argv[1:6]
    lifetime = float(sys.argv[6]) if len(sys.argv) > 6 else 300.0
    lock = threading.Lock()

    def record(entry):
        with lock, open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(cert, key)
    context.load_verify_locations(client_ca)
    context.set_alpn_protocols(["http/1.1"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            # The handshake runs here, on the connection's own thread, not in the accept loop.
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as error:
                record({"handshake_error": str(error)})
                raise
            super().setup()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            subject = dict(pair[0] for pair in self.request.getpeercert().get("subject", ()))
            record({
                "method": self.command,
                "path": self.path,
                "client_cn": subject.get("commonName"),
                # http.server decodes header bytes as ISO-8859-1, so encoding back gives the wire bytes.
                "headers": [[name, value.encode("iso-8859-1").hex()] for name, value in self.headers.raw_items()],
                "body": base64.b64encode(body).decode("ascii"),
            })
            if self.path.startswith("/hang"):
                time.sleep(20)
                return
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self):
            connection, address = self.socket.accept()
            return context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

        def handle_error(self, request, client_address):
            pass  # handshake failures are in the log; anything else would only be noise

    server = Server(("127.0.0.1", 0), Handler)
    with open(ready_path + ".tmp", "w") as ready:
        ready.write(str(server.server_address[1]))
    os.rename(ready_path + ".tmp", ready_path)

    parent = os.getppid()

    def watch():
        end = time.monotonic() + lifetime
        while time.monotonic() < end and os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
