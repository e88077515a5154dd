#!/usr/bin/env python3
"""A loopback HTTP server that answers every request, whatever its method,
with a text/plain description of what it received, so http_request_test can
check the method, headers and body that reached a real server (the scripted
test server does not record request bodies).

usage: http_echo_server.py PORT_FILE

Answer body, one line each: "method M", "path P", "h NAME: VALUE" per
header (name lowercased), "body_len N", then "body " and the body as sent.
A path that starts with /cut is answered 200 with a Content-Length the
body does not reach before the connection closes (a response cut short).
"""
import http.server
import os
import sys


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.echo
        raise AttributeError(name)

    def echo(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        lines = [f"method {self.command}", f"path {self.path}"]
        lines += [f"h {k.lower()}: {v}" for k, v in self.headers.items()]
        lines.append(f"body_len {len(body)}")
        out = ("\n".join(lines) + "\nbody ").encode() + body
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        cut = self.path.startswith("/cut")
        self.send_header("Content-Length", str(len(out) + (1000 if cut else 0)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)
        self.close_connection = True

    def log_message(self, format, *args):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, sys.argv[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
