#!/usr/bin/env python3
"""Backend emulator for the SSE gateway's HTTP callback mode (stdlib only).

Plays the backend's side of the 2026 stack, as docs/streams.md section 3 and
tests/gateway/README.md describe it, so that the real gateway (a Node process)
can be exercised without the backend's database, authentication or task system:

  POST /api/sse/callback             connect / disconnect callbacks from the gateway
  POST /api/testing/tasks/start      demo_task / failing_task, events broadcast
  POST /api/testing/sse/task-event   one task event to one connection
  POST /api/testing/deployments/version  a version event broadcast to all
  GET  /healthz                      200 once listening (for bounded waits)

Events reach clients only through the gateway: POST {gateway}/internal/send
{"token", "event": {"name", "data"}, "close"}. The payloads are serialized as the
backend serializes them: the pydantic v2 JSON form of a task event (UTC time with
a Z suffix, six fraction digits, none at a whole second) passed through Python's
json.dumps with its default separators.

Usage: backend.py --gateway http://127.0.0.1:PORT [--port N] [--port-file F]
                  [--version-json TEXT]
With --port 0 (the default) the bound port is written to --port-file.
"""

import argparse
import datetime
import json
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MAX_BODY = 1 << 20  # bytes; larger request bodies are refused
MAX_STEPS = 1000  # bound on demo_task's steps
MAX_DELAY_S = 30.0  # bound on a task's delay
GATEWAY_TIMEOUT_S = 5.0  # the backend's http_timeout towards the gateway


def pydantic_utc_timestamp(now=None):
    """An aware UTC datetime as pydantic v2 writes it in JSON mode."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    text = now.strftime("%Y-%m-%dT%H:%M:%S")
    if now.microsecond:
        text += ".%06d" % now.microsecond
    return text + "Z"


def task_event(event_type, task_id, data):
    """TaskEvent(...).model_dump(mode="json"): field order as the model declares it."""
    return {
        "event_type": event_type,
        "task_id": task_id,
        "timestamp": pydantic_utc_timestamp(),
        "data": data,
    }


class Backend:
    """Connection registry (request_id <-> gateway token) and event delivery."""

    def __init__(self, gateway_url, version_payload):
        self.gateway_url = gateway_url.rstrip("/")
        self.version_payload = version_payload
        self.lock = threading.Lock()
        self.by_request_id = {}  # request_id -> token
        self.by_token = {}  # token -> request_id

    def log(self, msg):
        sys.stderr.write("backend: %s\n" % msg)
        sys.stderr.flush()

    def gateway_send(self, token, name=None, data=None, close=False):
        """POST /internal/send; returns the gateway's status (0 on a network error)."""
        body = {"token": token}
        if name is not None:
            body["event"] = {"name": name, "data": data}
        body["close"] = close
        req = urllib.request.Request(
            self.gateway_url + "/internal/send",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=GATEWAY_TIMEOUT_S) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code
        except (urllib.error.URLError, OSError) as e:
            self.log("send to gateway failed: %s" % e)
            return 0

    def send_event(self, request_id, payload, name):
        """Targeted (request_id) or broadcast (None) send, as the backend does it."""
        with self.lock:
            if request_id is None:
                targets = list(self.by_request_id.items())
            elif request_id in self.by_request_id:
                targets = [(request_id, self.by_request_id[request_id])]
            else:
                return False
        data = json.dumps(payload)
        delivered = 0
        for rid, token in targets:
            status = self.gateway_send(token, name, data)
            if status == 404:  # connection gone: forget the stale mapping
                with self.lock:
                    if self.by_request_id.get(rid) == token:
                        del self.by_request_id[rid]
                    self.by_token.pop(token, None)
            elif status == 200:
                delivered += 1
        return delivered > 0

    def connect(self, request_id, token):
        with self.lock:
            old = self.by_request_id.get(request_id)
            if old is not None:
                self.by_token.pop(old, None)
            self.by_request_id[request_id] = token
            self.by_token[token] = request_id
        if old is not None:  # one connection per request id: close the older one
            self.log("replacing %s for request_id %s" % (old, request_id))
            self.gateway_send(old, close=True)
        # The version observer runs inside the callback, before it answers: the
        # gateway has not opened the stream yet and buffers this event.
        self.send_event(request_id, self.version_payload, "version")

    def disconnect(self, token):
        with self.lock:
            rid = self.by_token.pop(token, None)
            if rid is not None and self.by_request_id.get(rid) == token:
                del self.by_request_id[rid]

    def has_connection(self, request_id):
        with self.lock:
            return request_id in self.by_request_id

    def run_task(self, task_id, task_type, params):
        self.send_event(None, task_event("task_started", task_id, None), "task_event")
        delay = params["delay"]
        if task_type == "demo_task":
            steps = params["steps"]
            for i in range(steps):
                progress = {"text": "Step %d/%d" % (i + 1, steps), "value": (i + 1) / steps}
                self.send_event(None, task_event("progress_update", task_id, progress), "task_event")
                time.sleep(delay)
            self.send_event(None, task_event("task_completed", task_id, {"status": "success"}), "task_event")
            return
        time.sleep(delay)
        try:
            raise RuntimeError(params["error_message"])
        except RuntimeError as e:
            data = {"error": str(e), "traceback": traceback.format_exc()}
        self.send_event(None, task_event("task_failed", task_id, data), "task_event")


def number_param(params, key, default, lo, hi, integer):
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("params.%s must be a number" % key)
    if integer and value != int(value):
        raise ValueError("params.%s must be an integer" % key)
    if not lo <= value <= hi:
        raise ValueError("params.%s must be in [%s, %s]" % (key, lo, hi))
    return int(value) if integer else float(value)


class Handler(BaseHTTPRequestHandler):
    server_version = "waitress"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        self.server.backend.log("%s %s" % (self.address_string(), fmt % args))

    def reply(self, status, obj):
        body = (json.dumps(obj) + "\n").encode()
        # Flask/Werkzeug writes its reason phrases in capitals ("400 BAD REQUEST"),
        # and the gateway forwards that text in a rejected event.
        reason = {200: "OK", 202: "ACCEPTED", 400: "BAD REQUEST", 404: "NOT FOUND",
                  413: "REQUEST ENTITY TOO LARGE"}.get(status)
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_json(self):
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self.reply(413 if length > MAX_BODY else 400, {"error": "Bad Content-Length"})
            return None
        raw = self.rfile.read(length)
        try:
            obj = json.loads(raw or b"null")
        except ValueError:
            self.reply(400, {"error": "Invalid JSON"})
            return None
        if not isinstance(obj, dict):
            self.reply(400, {"error": "Missing JSON body"})
            return None
        return obj

    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, {"status": "ok"})
        else:
            self.reply(404, {"error": "Not found"})

    def do_POST(self):
        path = urlparse(self.path).path
        route = {
            "/api/sse/callback": self.callback,
            "/api/testing/tasks/start": self.start_task,
            "/api/testing/sse/task-event": self.targeted_task_event,
            "/api/testing/deployments/version": self.deployment_version,
        }.get(path)
        if route is None:
            self.reply(404, {"error": "Not found"})
            return
        body = self.read_json()
        if body is not None:
            route(body)

    def callback(self, body):
        backend = self.server.backend
        action = body.get("action")
        token = body.get("token")
        request = body.get("request")
        if not isinstance(token, str) or not isinstance(request, dict) or not isinstance(request.get("url"), str):
            self.reply(400, {"error": "Invalid payload"})
            return
        if action == "connect":
            ids = parse_qs(urlparse(request["url"]).query).get("request_id", [])
            if not ids or not ids[0]:
                self.reply(400, {"error": "Missing request_id in URL"})
                return
            if ":" in ids[0]:
                self.reply(400, {"error": "Invalid request_id format"})
                return
            backend.connect(ids[0], token)
            self.reply(200, {})
        elif action == "disconnect":
            backend.disconnect(token)
            self.reply(200, {})
        else:
            self.reply(400, {"error": "Unknown action: %s" % action})

    def start_task(self, body):
        task_type = body.get("task_type", "demo_task")
        params = body.get("params", {})
        if task_type not in ("demo_task", "failing_task") or not isinstance(params, dict):
            self.reply(400, {"error": "Unknown task_type: %s" % task_type})
            return
        try:
            checked = {"delay": number_param(params, "delay", 0.1, 0, MAX_DELAY_S, False)}
            if task_type == "demo_task":
                checked["steps"] = number_param(params, "steps", 3, 0, MAX_STEPS, True)
            else:
                message = params.get("error_message", "Task failed")
                if not isinstance(message, str):
                    raise ValueError("params.error_message must be a string")
                checked["error_message"] = message
        except ValueError as e:
            self.reply(400, {"error": str(e)})
            return
        task_id = str(uuid.uuid4())
        threading.Thread(target=self.server.backend.run_task, args=(task_id, task_type, checked),
                         daemon=True).start()
        self.reply(200, {"task_id": task_id, "status": "started"})

    def targeted_task_event(self, body):
        backend = self.server.backend
        rid, task_id, event_type = body.get("request_id"), body.get("task_id"), body.get("event_type")
        data = body.get("data")
        if (not isinstance(rid, str) or not isinstance(task_id, str)
                or event_type not in ("task_started", "progress_update", "task_completed", "task_failed")
                or not (data is None or isinstance(data, dict))):
            self.reply(400, {"error": "Invalid request"})
            return
        if not backend.has_connection(rid):
            self.reply(400, {"error": "No SSE connection registered for request_id: %s" % rid,
                             "status": "not_found"})
            return
        if not backend.send_event(rid, task_event(event_type, task_id, data), "task_event"):
            self.reply(400, {"error": "Failed to send event to connection: %s" % rid,
                             "status": "send_failed"})
            return
        self.reply(200, {"request_id": rid, "task_id": task_id, "event_type": event_type, "delivered": True})

    def deployment_version(self, body):
        rid, version, changelog = body.get("request_id"), body.get("version"), body.get("changelog")
        if not isinstance(rid, str) or not isinstance(version, str) or not (
                changelog is None or isinstance(changelog, str)):
            self.reply(400, {"error": "Invalid request"})
            return
        payload = {"version": version}
        if changelog:
            payload["changelog"] = changelog
        self.server.backend.send_event(None, payload, "version")
        # As upstream: "delivered" is True unless shutting down, whatever the send did.
        self.reply(202, {"request_id": rid, "delivered": True, "status": "delivered"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gateway", required=True, help="gateway base URL, e.g. http://127.0.0.1:3000")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--version-json", default='{"version": "emulated-1", "environment": "test", '
                    '"git_commit": "0000000000000000000000000000000000000000"}',
                    help="the frontend's version.json, sent verbatim on connect")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.backend = Backend(args.gateway, json.loads(args.version_json))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
