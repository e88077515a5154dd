#!/usr/bin/env python3
"""A small HTTP proxy for test_transport.sh (loopback only).

CONNECT host:port opens a tunnel; an absolute-form request
("GET http://host:port/path HTTP/1.1") is forwarded with its target made
origin-form. Only 127.0.0.1 is reached: any other host gets 403. Each
request line is appended to --log (one line, flushed) before it is served,
so a test can tell whether a client came through the proxy. Bounded: at
most 32 connections at once, each idle for at most 10 s. The chosen port is
written to --port-file (atomically) once it listens.
"""
import argparse
import os
import select
import socket
import threading
import urllib.parse

MAX_HEAD = 65536
IDLE_S = 10
SLOTS = threading.BoundedSemaphore(32)


def pipe(a, b):
    """Copies both ways until either side closes or stays idle too long."""
    socks = [a, b]
    while True:
        ready, _, _ = select.select(socks, [], [], IDLE_S)
        if not ready:
            return
        for s in ready:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def handle(conn, log):
    upstream = None
    try:
        conn.settimeout(IDLE_S)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        line, _, rest = head.partition(b"\r\n")
        parts = line.decode("latin-1").split(" ")
        if len(parts) != 3:
            return
        method, target, version = parts
        with open(log, "a") as f:
            f.write(line.decode("latin-1") + "\n")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
        else:
            u = urllib.parse.urlsplit(target)
            host, port = u.hostname or "", str(u.port or 80)
        if host != "127.0.0.1":
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection((host, int(port)), timeout=IDLE_S)
        if method == "CONNECT":
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            extra = head.split(b"\r\n\r\n", 1)[1]
            if extra:
                upstream.sendall(extra)
        else:
            u = urllib.parse.urlsplit(target)
            path = (u.path or "/") + ("?" + u.query if u.query else "")
            upstream.sendall(("%s %s %s\r\n" % (method, path, version)).encode("latin-1") + rest)
        pipe(conn, upstream)
    except OSError:
        pass
    finally:
        if upstream is not None:
            upstream.close()
        conn.close()
        SLOTS.release()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(tmp, args.port_file)
    while True:
        conn, _ = listener.accept()
        if not SLOTS.acquire(timeout=IDLE_S):
            conn.close()
            continue
        threading.Thread(target=handle, args=(conn, args.log), daemon=True).start()


if __name__ == "__main__":
    main()
