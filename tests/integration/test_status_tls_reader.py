#!/usr/bin/env python3
"""A TLS client of the daemon's status endpoint that reads an HTTP/1.1
response slowly and checks how it was framed.

usage: test_status_tls_reader.py HOST PORT PATH CAFILE OUT [--rate BYTES_PER_S]
       [--cert CERT --key KEY] [--ready FILE] [--timeout S] [--stall-after BYTES]
       [--paced-bytes BYTES]
(CAFILE "-": plain HTTP, no TLS)

Sends one GET PATH (HTTP/1.1, Connection: close), then reads the socket in
reads of at most 16 KiB, sleeping between them so it takes in at most
--rate bytes a second (the daemon's queue and the kernel's buffers fill
up meanwhile). Writes the decoded body to OUT and prints one line of JSON:
the status code, whether the body was chunked, how many chunks, the
largest, the body's length, the bytes received in all (headers and framing
too) and the seconds the transfer took. Touches --ready FILE once the
headers are in, writing the client's local port to it. Exits 1 when the
response is not complete (no terminating chunk, or the connection ended
early) or the whole transfer took longer than --timeout (default 60)
seconds.

With --paced-bytes BYTES only the first BYTES are paced, the rest is read
at full speed: a reader that is slow for a while (the daemon's queue and a
send buffer of several MB in front of it, draining slowly) without taking
minutes over a large document.

With --stall-after BYTES it stops reading once BYTES are in, writes its
local port to --ready FILE then (not before), and keeps the socket open,
unread, until --timeout has passed or it is killed: a client that stops
reading. Loopback only.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("path")
    ap.add_argument("cafile")
    ap.add_argument("out")
    ap.add_argument("--rate", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ready")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--stall-after", type=int, default=0)
    ap.add_argument("--paced-bytes", type=int, default=0)
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("loopback only")

    ctx = None
    if a.cafile != "-":
        ctx = ssl.create_default_context(cafile=a.cafile)
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
    start = time.monotonic()
    deadline = start + a.timeout
    raw = socket.create_connection((a.host, a.port), timeout=a.timeout)
    # A small receive buffer, so a slow reader is slow at the daemon too.
    if a.rate:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    s = ctx.wrap_socket(raw, server_hostname=a.host) if ctx else raw
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
               % (a.path, a.host, a.port)).encode())

    def ready():
        """Writes the local port to --ready FILE, whole or not at all."""
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d\n" % s.getsockname()[1])
        os.replace(a.ready + ".tmp", a.ready)

    buf = bytearray()
    eof = False
    got = 0

    def fill():
        """Reads once more into buf; False at the end of the stream."""
        nonlocal eof, got
        if eof:
            return False
        if time.monotonic() > deadline:
            raise TimeoutError("the transfer took more than %.0f s" % a.timeout)
        if a.rate and (not a.paced_bytes or got < a.paced_bytes):
            # Paced: no more than rate bytes a second on average.
            ahead = got / a.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(min(ahead, 1.0))
        data = s.recv(16 << 10)
        if not data:
            eof = True
            return False
        got += len(data)
        buf.extend(data)
        if a.stall_after and got >= a.stall_after:
            stall()
        return True

    def stall():
        """Stops reading, holding the socket open until the deadline."""
        ready()
        left = deadline - time.monotonic()
        if left > 0:
            time.sleep(left)
        raise TimeoutError("stalled after %d bytes until the deadline" % got)

    def line():
        while True:
            i = buf.find(b"\r\n")
            if i >= 0:
                text = bytes(buf[:i])
                del buf[:i + 2]
                return text
            if len(buf) > 65536 or not fill():
                raise ValueError("no line end")

    def take(n):
        while len(buf) < n:
            if not fill():
                raise ValueError("the connection ended %d bytes early" % (n - len(buf)))
        data = bytes(buf[:n])
        del buf[:n]
        return data

    report = {"status": 0, "chunked": False, "chunks": 0, "max_chunk": 0, "length": 0}
    try:
        status = line().split(b" ")
        report["status"] = int(status[1])
        headers = {}
        while True:
            h = line()
            if not h:
                break
            k, _, v = h.partition(b":")
            headers[k.strip().lower()] = v.strip().lower()
        if a.ready and not a.stall_after:
            ready()
        body = bytearray()
        if headers.get(b"transfer-encoding") == b"chunked":
            report["chunked"] = True
            for _ in range(1 << 20):
                size = int(line().split(b";")[0], 16)
                if size == 0:
                    take(2)
                    break
                body.extend(take(size))
                take(2)
                report["chunks"] += 1
                report["max_chunk"] = max(report["max_chunk"], size)
            else:
                raise ValueError("too many chunks")
        elif b"content-length" in headers:
            body.extend(take(int(headers[b"content-length"])))
        else:
            while fill():
                pass
            body.extend(buf)
        report["length"] = len(body)
        with open(a.out, "wb") as f:
            f.write(body)
        ok = True
    except (ValueError, OSError, TimeoutError) as e:
        report["error"] = str(e)
        ok = False
    report["received"] = got
    report["seconds"] = round(time.monotonic() - start, 3)
    print(json.dumps(report), flush=True)
    s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
