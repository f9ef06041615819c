"""A real webhook receiver for the test suite and the benchmark.

Every request to /hook/<name> is verified with the official Standard
Webhooks library (`standardwebhooks` from PyPI) against each secret the
test configured for <name>; what arrived, and which secrets verified it,
is appended to <state>/received.jsonl (so it survives a restart of this
process, which is how the tests take a subscriber down and bring it back).

How <name> answers is configured per name over the control routes:
  POST /_control/config {"name", "secrets": [...], "status": 200,
                         "retry_after": null, "delay_ms": 0,
                         "statuses": [first, second, ...]}
  GET  /_control/received?name=<name>   -> {"items": [...]}
`statuses`, if given, are answered in order (then `status`).
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
CONFIG = {}
COUNTS = {}
STATE = None


def received(name):
    items = []
    path = os.path.join(STATE, "received.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                item = json.loads(line)
                if name is None or item["name"] == name:
                    items.append(item)
    return items


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_control/received":
            name = parse_qs(url.query).get("name", [None])[0]
            with LOCK:
                body = json.dumps({"items": received(name)}).encode()
            return self.answer(200, body, [("content-type", "application/json")])
        self.answer(404)

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        url = urlparse(self.path)
        if url.path == "/_control/config":
            config = json.loads(body)
            with LOCK:
                CONFIG[config["name"]] = config
                COUNTS.setdefault(config["name"], 0)
            return self.answer(204)
        if not url.path.startswith("/hook/"):
            return self.answer(404)
        name = url.path[len("/hook/"):]
        arrived = time.time()
        with LOCK:
            config = CONFIG.get(name, {})
            n = COUNTS.get(name, 0)
            COUNTS[name] = n + 1
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = []
        payload = None
        for i, secret in enumerate(config.get("secrets", [])):
            try:
                payload = Webhook(secret).verify(body, headers)
                verified.append(i)
            except WebhookVerificationError:
                pass
        statuses = config.get("statuses") or []
        status = statuses[n] if n < len(statuses) else config.get("status", 200)
        item = {
            "name": name,
            "webhook_id": headers.get("webhook-id"),
            "webhook_timestamp": headers.get("webhook-timestamp"),
            "signature": headers.get("webhook-signature"),
            "verified_with": verified,
            "type": payload.get("type") if isinstance(payload, dict) else None,
            "payload": payload,
            "arrived": arrived,
            "answered": status,
        }
        with LOCK:
            with open(os.path.join(STATE, "received.jsonl"), "a") as f:
                f.write(json.dumps(item) + "\n")
        delay = config.get("delay_ms", 0)
        if delay:
            time.sleep(delay / 1000)
        extra = []
        if config.get("retry_after") is not None:
            extra.append(("retry-after", str(config["retry_after"])))
        if not verified and config.get("secrets"):
            status = 401
        self.answer(status, b"<html>received</html>", extra)


def main():
    global STATE
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", required=True)
    args = parser.parse_args()
    STATE = args.state
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
