#!/usr/bin/env python3
"""Bridges TCP on 127.0.0.1 to Renkei's status socket (a UNIX socket), for the Schemathesis run.

    bridge.py STATUS_SOCKET READY [LIFETIME_S]

Listens on 127.0.0.1 on a free port; once listening it writes the port to READY (atomically).
Each TCP connection gets its own connection to STATUS_SOCKET and bytes are copied both ways
unchanged (a half-close is passed on), so the daemon sees exactly what the HTTP client sent.
Exits by itself after LIFETIME_S seconds (default 600) or when its parent goes away.
"""
import os
import socket
import sys
import threading
import time


def pump(source, sink):
    """Copies source to sink until EOF or an error, then passes the end on as a half-close."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client, socket_path):
    try:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(socket_path)
    except OSError:
        client.close()
        return
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main():
    socket_path, ready_path = sys.argv[1:3]
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 600.0
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(ready_path + ".tmp", "w") as ready:
        ready.write(str(listener.getsockname()[1]))
    os.rename(ready_path + ".tmp", ready_path)

    parent = os.getppid()

    def watch():
        end = time.monotonic() + lifetime
        while time.monotonic() < end and os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, socket_path), daemon=True).start()


if __name__ == "__main__":
    main()
