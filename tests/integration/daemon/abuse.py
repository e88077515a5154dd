#!/usr/bin/env python3
"""Misbehaving clients of the daemon's status port (loopback only).

usage: abuse.py PORT MODE [ARG]
  garbage          send bytes that are not HTTP; print the status code the
                   server answered, or "closed" when it closed without one
  oversized BYTES  send a request whose header is BYTES long; print likewise
  hold SECONDS     send half a request, never finish it, keep the
                   connection open SECONDS; print "held" or "closed" (the
                   server closed it first)
  parallel N       open N connections at once, then send GET /healthz on
                   each and read every answer; print how many were 200
Every socket operation has a timeout, so each mode ends in bounded time.
"""
import socket
import sys
import time

HOST = "127.0.0.1"
TIMEOUT_S = 10.0


def connect(port):
    s = socket.create_connection((HOST, port), timeout=TIMEOUT_S)
    s.settimeout(TIMEOUT_S)
    return s


def read_all(s, deadline):
    chunks = []
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            b = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def status_of(resp):
    if resp.startswith(b"HTTP/1.") and len(resp) >= 12:
        return resp[9:12].decode("ascii", "replace")
    return "closed"


def send_then_status(port, payload):
    s = connect(port)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    resp = read_all(s, time.monotonic() + TIMEOUT_S)
    s.close()
    return status_of(resp)


def mode_garbage(port):
    payload = b"\x00\xff\xfe\x16\x03\x01 not http at all \r\n\x7f\x80\r\n\r\n"
    print(send_then_status(port, payload))


def mode_oversized(port, size):
    filler = b"a" * size
    payload = (b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + filler +
               b"\r\n\r\n")
    print(send_then_status(port, payload))


def mode_hold(port, seconds):
    s = connect(port)
    s.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    deadline = time.monotonic() + seconds
    closed = False
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, min(0.5, deadline - time.monotonic())))
        try:
            b = s.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            closed = True
            break
        if not b:
            closed = True
            break
    s.close()
    print("closed" if closed else "held")


def mode_parallel(port, n):
    socks = [connect(port) for _ in range(n)]
    req = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Connection: close\r\n\r\n")
    for s in socks:
        s.sendall(req)
    deadline = time.monotonic() + 20.0
    ok = 0
    for s in socks:
        if status_of(read_all(s, deadline)) == "200":
            ok += 1
        s.close()
    print(ok)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    port, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "garbage":
        mode_garbage(port)
    elif mode == "oversized" and len(sys.argv) == 4:
        mode_oversized(port, int(sys.argv[3]))
    elif mode == "hold" and len(sys.argv) == 4:
        mode_hold(port, float(sys.argv[3]))
    elif mode == "parallel" and len(sys.argv) == 4:
        mode_parallel(port, int(sys.argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
