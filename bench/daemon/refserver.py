#!/usr/bin/env python3
"""The reference for the status endpoint's transfer times (bench/daemon/run.sh).

Serves one static body of SIZE bytes (Prometheus-like text lines) to every
GET on 127.0.0.1:PORT, with its Content-Length, from a response built once at
start and written with one sendall: the least work any server can do to
move that many bytes to curl over loopback on this machine, under the same
load. Runs until killed.

    refserver.py PORT SIZE
"""
import socket
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: refserver.py PORT SIZE", file=sys.stderr)
        return 2
    port, size = int(sys.argv[1]), int(sys.argv[2])
    line = b'ssemon_reference_bytes{subscription="reference-00000",le="0.5"} 12345\n'
    body = (line * (size // len(line) + 1))[:size]
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size) + body
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                request += chunk
            if b"\r\n\r\n" in request:
                try:
                    conn.sendall(response)
                except OSError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
