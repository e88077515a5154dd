#!/usr/bin/env python3
"""Floods a status port on 127.0.0.1, or measures how fast it answers.

usage:
  flood.py idle PORT N [--send BYTES]      N connections opened and held (after
                                           sending BYTES, if given); closed ones
                                           are not reopened
  flood.py churn PORT N [--send BYTES]     N connections, each opened again as
                                           soon as the server closes it
  flood.py slowloris PORT N --interval S   N connections sending one more byte
                                           of a request's headers every S
                                           seconds; reopened when closed
  flood.py probe PORT COUNT --interval S --path PATH
                                           COUNT requests GET PATH, one every S
                                           seconds, each on a new connection;
                                           stops early after 3 failures

A flood prints "ready" once its N connections are open, runs until SIGTERM
or --duration S (at most 600), and prints one JSON line: opened, closed (by
the server), and for slowloris the longest a connection lived while it kept
sending (max_life_s). A probe prints one JSON line: n, ok, p50, p99 and max
latency in seconds (a request that fails or takes over 5 s counts as 5 s
and is not ok), and the failures. Every loop is bounded; 127.0.0.1 only.
"""
import argparse
import errno
import json
import selectors
import signal
import socket
import sys
import time

HOST = "127.0.0.1"
PROBE_TIMEOUT_S = 5.0
PROBE_MAX_FAILURES = 3
MAX_DURATION_S = 600.0
SLOW_HEAD = (b"GET /healthz HTTP/1.1\r\nHost: flood\r\nX-Slow: "
             + b"a" * 4000)


class Flood:
    """The flood's connections, driven by one selector."""

    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.opened = 0
        self.closed = 0
        self.max_life = 0.0
        self.stop = False

    def open(self, slot):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((HOST, self.args.port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            raise OSError(rc, "connect to 127.0.0.1:%d failed" % self.args.port)
        now = time.monotonic()
        # slot, opened at, bytes of SLOW_HEAD sent, next byte due, connected
        state = {"slot": slot, "t0": now, "sent": 0, "due": now, "up": False}
        self.sel.register(s, selectors.EVENT_WRITE, state)
        self.opened += 1

    def on_closed(self, s, state):
        """The server closed `s`; reopened unless the mode holds."""
        self.sel.unregister(s)
        s.close()
        self.closed += 1
        if self.args.mode == "slowloris" and state["sent"] > 1:
            self.max_life = max(self.max_life, time.monotonic() - state["t0"])
        if self.args.mode != "idle":
            self.open(state["slot"])

    def connected(self, s, state):
        state["up"] = True
        if self.args.send and self.args.mode != "slowloris":
            try:
                s.send(self.args.send.encode())
            except OSError:
                self.on_closed(s, state)
                return
        self.sel.modify(s, selectors.EVENT_READ, state)

    def drip(self, now):
        """slowloris: one more byte from each connection that is due."""
        for key in list(self.sel.get_map().values()):
            state = key.data
            if not state["up"] or state["due"] > now:
                continue
            s = key.fileobj
            try:
                s.send(SLOW_HEAD[state["sent"] % len(SLOW_HEAD):][:1])
                state["sent"] += 1
                state["due"] = now + self.args.interval
            except OSError:
                self.on_closed(s, state)

    def run(self):
        for slot in range(self.args.n):
            self.open(slot)
        announced = False
        end = time.monotonic() + min(self.args.duration, MAX_DURATION_S)
        while not self.stop and time.monotonic() < end:
            for key, mask in self.sel.select(timeout=0.05):
                s, state = key.fileobj, key.data
                if mask & selectors.EVENT_WRITE:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        self.on_closed(s, state)
                    else:
                        self.connected(s, state)
                    continue
                try:
                    data = s.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.on_closed(s, state)
            if self.args.mode == "slowloris":
                self.drip(time.monotonic())
            if not announced and all(k.data["up"] for k in self.sel.get_map().values()):
                print("ready", flush=True)
                announced = True
        # Connections still open at the end lived at least this long.
        if self.args.mode == "slowloris":
            now = time.monotonic()
            for key in self.sel.get_map().values():
                if key.data["sent"] > 1:
                    self.max_life = max(self.max_life, now - key.data["t0"])
        print(json.dumps({"mode": self.args.mode, "opened": self.opened,
                          "closed": self.closed,
                          "max_life_s": round(self.max_life, 3)}), flush=True)


def probe_once(port, path):
    """Seconds to get a whole 200 response to GET path, or None."""
    t0 = time.monotonic()
    try:
        with socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT_S) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
                       % path).encode())
            got = b""
            while time.monotonic() - t0 < PROBE_TIMEOUT_S:
                b = s.recv(65536)
                if not b:
                    break
                got += b
    except OSError as e:
        return None, "%s: %s" % (type(e).__name__, e)
    took = time.monotonic() - t0
    if not got.startswith(b"HTTP/1.1 200") or took >= PROBE_TIMEOUT_S:
        return None, "answer after %.3f s: %r" % (took, got[:40])
    return took, None


def probe(args):
    times, failures = [], []
    for i in range(args.n):
        start = time.monotonic()
        took, why = probe_once(args.port, args.path)
        if took is None:
            failures.append(why)
            took = PROBE_TIMEOUT_S
        times.append(took)
        if len(failures) >= PROBE_MAX_FAILURES:
            break
        rest = args.interval - (time.monotonic() - start)
        if rest > 0 and i + 1 < args.n:
            time.sleep(rest)
    ranked = sorted(times)

    def pct(p):  # nearest rank
        return ranked[max(0, -(-len(ranked) * p // 100) - 1)]
    print(json.dumps({"n": len(times), "ok": len(times) - len(failures),
                      "p50": round(pct(50), 4), "p99": round(pct(99), 4),
                      "max": round(ranked[-1], 4), "failures": failures[:5]}),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["idle", "churn", "slowloris", "probe"])
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--send", default="")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=MAX_DURATION_S)
    ap.add_argument("--path", default="/healthz")
    args = ap.parse_args()
    if args.mode == "probe":
        probe(args)
        return 0
    flood = Flood(args)

    def stop(signum, frame):
        flood.stop = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    flood.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
