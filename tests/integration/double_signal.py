#!/usr/bin/env python3
"""Stops `ssemon watch URL` ROUNDS times with two SIGTERMs sent a few
microseconds apart (what `timeout` does: one to its child, one to the process
group) and prints how many runs exited with a status other than 0, one line
per such run first. Each run waits for the watch's "open" line (bounded) before
signalling; the gap between the two signals varies from 0 to 2 ms so that the
second one lands at every point of the teardown.
usage: double_signal.py SSEMON URL ROUNDS"""
import select
import signal
import subprocess
import sys
import time

ssemon, url, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad = 0
for i in range(rounds):
    p = subprocess.Popen([ssemon, "watch", "--duration", "30", url],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    limit = time.monotonic() + 10
    seen = b""
    while b'"connection":"open"' not in seen.replace(b" ", b"") and time.monotonic() < limit:
        ready, _, _ = select.select([p.stdout], [], [], 0.5)
        if ready:
            chunk = p.stdout.readline()
            if not chunk:
                break
            seen += chunk
    p.send_signal(signal.SIGTERM)
    until = time.perf_counter() + (i % 21) * 0.0001
    while time.perf_counter() < until:
        pass
    try:
        p.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass
    p.stdout.close()
    rc = p.wait(timeout=30)
    if rc != 0:
        bad += 1
        print(f"run {i}: exit status {rc}")
print(bad)
