#!/usr/bin/env python3
"""A TCP relay that stamps when each connection arrives, for
bench/probe/accuracy.sh (see docs/benchmarks.md, "Probes").

    stamprelay.py --upstream PORT --port-file FILE --log FILE

Listens on 127.0.0.1 (a free port, written to FILE.tmp then renamed to
FILE), and relays each connection to 127.0.0.1:PORT. Per connection it
appends one JSON line to the log: {"t_us": CLOCK_REALTIME in microseconds
when accept() returned, "line": the request line}. The test server's event
log uses the same clock, so (event write - t_us) is the true trigger-to-
write time of a probe whose trigger goes through the relay.

Bounded: at most 64 connections at once (more are refused), 16 KiB read
before the request line is taken, 30 s of silence ends a connection.
Stops on SIGTERM or SIGINT.
"""
import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time

MAX_CONNS = 64
HEAD_MAX = 16384
IDLE_S = 30.0


def relay(client, t_us, upstream, log, lock, slots):
    try:
        up = socket.create_connection(("127.0.0.1", upstream), timeout=5)
        up.settimeout(None)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        logged = False
        open_ends = {client: up, up: client}
        while open_ends:
            ready, _, _ = select.select(list(open_ends), [], [], IDLE_S)
            if not ready:
                break
            for s in ready:
                data = s.recv(65536)
                if s is client and not logged:
                    head += data
                    if b"\r\n" in head or len(head) >= HEAD_MAX or not data:
                        line = head.split(b"\r\n", 1)[0][:HEAD_MAX].decode("latin-1")
                        with lock:
                            log.write(json.dumps({"t_us": t_us, "line": line}) + "\n")
                            log.flush()
                        logged = True
                if not data:
                    other = open_ends.pop(s)
                    try:
                        other.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                open_ends[s].sendall(data)
        up.close()
    except OSError as e:
        print(f"stamprelay: {e}", file=sys.stderr)
    finally:
        client.close()
        slots.release()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.rename(a.port_file + ".tmp", a.port_file)
    log = open(a.log, "a")
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(MAX_CONNS)
    while True:
        client, _ = srv.accept()
        t_us = time.time_ns() // 1000
        if not slots.acquire(blocking=False):
            client.close()
            continue
        threading.Thread(target=relay, args=(client, t_us, a.upstream, log, lock, slots),
                         daemon=True).start()


if __name__ == "__main__":
    main()
