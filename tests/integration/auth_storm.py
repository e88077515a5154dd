#!/usr/bin/env python3
"""Fires requests with a wrong password at a status port on 127.0.0.1.

usage:
  auth_storm.py PORT --clients N [--abandon M] --duration S
                [--user U --password P] [--path PATH]

N threads each keep a connection and send GET PATH with basic credentials
U:P (by default a wrong password) as fast as the answers come back; M more
threads each open a connection, send such a request and close it at once,
without reading (the daemon must drop a request whose client went away
while its password was being checked). Runs for S seconds (at most 120),
prints "ready" once every thread has sent its first request, then one JSON
line: the answers by status code ("401", "429", ...), the requests
abandoned, the transport errors, and the 429s without Retry-After: 1
(no_retry_after; counted as "429-without-retry-after", not as "429"). Every loop is bounded by the
duration; 127.0.0.1 only.
"""
import argparse
import base64
import json
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
MAX_DURATION_S = 120.0
READ_TIMEOUT_S = 10.0


def request_bytes(path, user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return ("GET %s HTTP/1.1\r\nHost: storm\r\nAuthorization: Basic %s\r\n\r\n"
            % (path, token)).encode()


def read_response(f):
    """The status code of one response read from file f (its body skipped),
    or None when the connection ended."""
    line = f.readline(1024)
    if not line:
        return None
    parts = line.split()
    if len(parts) < 2:
        return None
    code = parts[1].decode()
    length = 0
    chunked = False
    retry_after = None
    while True:
        h = f.readline(8192)
        if not h or h in (b"\r\n", b"\n"):
            break
        name, _, value = h.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"retry-after":
            retry_after = value.strip()
    if chunked:
        while True:
            size = int(f.readline(1024).split(b";")[0], 16)
            f.read(size + 2)
            if size == 0:
                break
    elif length > 0:
        f.read(length)
    if code == "429" and retry_after != b"1":
        code = "429-without-retry-after"
    return code


class Storm:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.codes = {}
        self.abandoned = 0
        self.errors = 0
        self.started = 0
        self.end = time.monotonic() + min(args.duration, MAX_DURATION_S)
        self.req = request_bytes(args.path, args.user, args.password)

    def count(self, code=None, abandoned=False, error=False, started=False):
        with self.lock:
            if code is not None:
                self.codes[code] = self.codes.get(code, 0) + 1
            self.abandoned += abandoned
            self.errors += error
            self.started += started

    def keeper(self):
        first = True
        while time.monotonic() < self.end:
            try:
                with socket.create_connection((HOST, self.args.port),
                                              timeout=READ_TIMEOUT_S) as s:
                    f = s.makefile("rb")
                    while time.monotonic() < self.end:
                        s.sendall(self.req)
                        if first:
                            self.count(started=True)
                            first = False
                        code = read_response(f)
                        if code is None:
                            break
                        self.count(code=code)
            except (OSError, ValueError):
                self.count(error=True)
                time.sleep(0.01)

    def abandoner(self):
        first = True
        while time.monotonic() < self.end:
            try:
                with socket.create_connection((HOST, self.args.port),
                                              timeout=READ_TIMEOUT_S) as s:
                    s.sendall(self.req)
                    self.count(abandoned=True, started=first)
                    first = False
                # Not flat out: the daemon's accept loop is not the target.
                time.sleep(0.02)
            except OSError:
                self.count(error=True)
                time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--abandon", type=int, default=0)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--user", default="alice")
    ap.add_argument("--password", default="wrong pass")
    ap.add_argument("--path", default="/status")
    args = ap.parse_args()
    storm = Storm(args)
    threads = [threading.Thread(target=storm.keeper, daemon=True)
               for _ in range(args.clients)]
    threads += [threading.Thread(target=storm.abandoner, daemon=True)
                for _ in range(args.abandon)]
    for t in threads:
        t.start()
    total = len(threads)
    while time.monotonic() < storm.end:
        with storm.lock:
            if storm.started >= total:
                break
        time.sleep(0.01)
    print("ready", flush=True)
    for t in threads:
        t.join(max(0.0, storm.end - time.monotonic()) + READ_TIMEOUT_S + 1)
    print(json.dumps({"codes": storm.codes, "abandoned": storm.abandoned,
                      "errors": storm.errors,
                      "no_retry_after": storm.codes.get("429-without-retry-after", 0)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
