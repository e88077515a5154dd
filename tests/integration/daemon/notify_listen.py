#!/usr/bin/env python3
"""Records every sd_notify datagram sent to an AF_UNIX datagram socket.

usage: notify_listen.py SOCKET_PATH OUTPUT_FILE MAX_SECONDS

Binds SOCKET_PATH (what NOTIFY_SOCKET points at), then creates OUTPUT_FILE
(so a caller that waits for the file knows the socket is bound) and appends
one JSON object per datagram: {"mono_us": the listener's CLOCK_MONOTONIC
when it arrived, "msg": the datagram text}. Each line is flushed at once.
Stops on SIGTERM/SIGINT or after MAX_SECONDS, whichever comes first.
"""
import json
import os
import select
import signal
import socket
import sys
import time


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, out_path, max_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    end = time.monotonic() + max_s
    with open(out_path, "a", encoding="utf-8") as out:
        out.flush()
        while not stop:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                ready, _, _ = select.select([sock], [], [], min(left, 0.5))
            except InterruptedError:
                continue
            if not ready:
                continue
            data = sock.recv(65536)
            rec = {"mono_us": time.monotonic_ns() // 1000,
                   "msg": data.decode("utf-8", "replace")}
            out.write(json.dumps(rec) + "\n")
            out.flush()
    sock.close()
    os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
