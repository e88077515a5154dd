#!/usr/bin/env python3
"""A minimal event-stream server for test_tls.sh and test_transport.sh
(loopback only).

Every request gets one fixed SSE response (one event, then the end), so the
tests exercise only the client's transport: TLS verification, client
certificates, proxies, request headers. The chosen port is written to
--port-file (atomically) once the server listens.

  --cert/--key      serve TLS with this certificate (else --plain)
  --plain           plain HTTP
  --client-ca FILE  require a client certificate signed by a CA in FILE
  --json            the event's data is {"correlation_id": RID}, RID the
                    request's query parameter rid (else the data is "tls")
  --require-header  'Name: value': a request without it gets 401
"""
import argparse
import os
import socket
import ssl
import threading
import urllib.parse

MAX_REQUEST = 65536


def response(args, request):
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    target = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
    if args.require_header:
        want = args.require_header.lower().replace(" ", "")
        have = [h.lower().replace(" ", "") for h in lines[1:]]
        if want not in have:
            return (b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 13\r\nConnection: close\r\n\r\nunauthorized\n")
    data = b"tls"
    if args.json:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        rid = query.get("rid", [""])[0]
        data = ('{"correlation_id": "%s"}' % rid).encode()
    return (b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\n"
            b"Connection: close\r\n\r\n"
            b"id: 1\ndata: " + data + b"\n\n")


def serve(args, conn):
    try:
        conn.settimeout(10)
        request = b""
        while b"\r\n\r\n" not in request and len(request) < MAX_REQUEST:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        conn.sendall(response(args, request))
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--client-ca")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--require-header")
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()

    ctx = None
    if not args.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(tmp, args.port_file)
    while True:
        raw, _ = listener.accept()
        conn = raw
        if ctx is not None:
            try:
                raw.settimeout(10)
                conn = ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                # A client that refuses our certificate, or that has none
                # when one is required, fails the handshake.
                raw.close()
                continue
        threading.Thread(target=serve, args=(args, conn), daemon=True).start()


if __name__ == "__main__":
    main()
