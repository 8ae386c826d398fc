"""A real HTTP server on 127.0.0.1 standing in for Bitbucket Data Center in tests.

Every request body is validated against the schemas of tests/data/contracts/bitbucket-dc-9.6-openapi.yaml
(with one documented quirk patched: RestInsightReportData.value is typed `object` there but takes
numbers). Faults can be queued per route: a status (with Retry-After), a delay, or malformed JSON.
"""

from __future__ import annotations

import json
import re
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema
import yaml
from helpers import DATA

SPEC = DATA / "contracts" / "bitbucket-dc-9.6-openapi.yaml"


@lru_cache(maxsize=1)
def spec() -> dict:
    data = yaml.load(SPEC.read_text(), Loader=yaml.CSafeLoader)
    # documented quirk: `value` is typed object but Bitbucket takes numbers, text, booleans
    data["components"]["schemas"]["RestInsightReportData"]["properties"]["value"] = {}
    return data


def _route(method: str, path: str) -> tuple[str, dict] | None:
    for template, ops in spec()["paths"].items():
        pattern = "^/rest" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return template, ops[method.lower()]
    return None


def validate_body(method: str, path: str, body: Any) -> list[str]:
    found = _route(method, path)
    if found is None:
        return [f"{method} {path}: no such operation in the OpenAPI document"]
    _, op = found
    content = op.get("requestBody", {}).get("content", {})
    ref = next((c.get("schema", {}).get("$ref") for c in content.values() if c.get("schema")), None)
    if ref is None:
        return [] if body is None else [f"{method} {path}: takes no body"]
    schema = {"$ref": ref, "components": spec()["components"]}
    validator = jsonschema.Draft4Validator(schema)
    return [f"{method} {path}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(body)]


class FakeBitbucket:
    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[dict] = []
        self.violations: list[str] = []
        self.faults: list[tuple[str, dict]] = []  # (path regex, fault) consumed in order
        self.comments: dict[int, dict] = {}
        self.pr_head = "f" * 40
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = self.path.split("?", 1)[0]
                server.requests.append({"at": time.time(), "method": self.command, "path": path,
                                        "query": self.path.partition("?")[2],
                                        "body": body, "auth": self.headers.get("Authorization")})
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    server.violations.append(f"{self.command} {path}: missing or wrong bearer token")
                server.violations.extend(validate_body(self.command, path, body))
                for i, (pattern, fault) in enumerate(server.faults):
                    if re.search(pattern, path):
                        del server.faults[i]
                        if fault.get("delay"):
                            time.sleep(fault["delay"])
                        if fault.get("malformed"):
                            return self._send(200, b"{not json")
                        if fault.get("redirect"):
                            return self._send(fault.get("status", 302), b"", {"Location": fault["redirect"]})
                        if fault.get("drip"):  # a byte every `drip` seconds: no single read ever times out
                            return self._drip(fault["drip"], fault.get("bytes", 600))
                        if fault.get("huge"):  # a body of `huge` bytes
                            return self._send_stream(200, fault["huge"])
                        if fault.get("status"):
                            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
                            return self._send(fault["status"], b'{"errors": [{"message": "injected"}]}', headers)
                        break
                self._respond(path, body)

            def _respond(self, path: str, body: Any) -> None:
                m = re.search(r"/pull-requests/(\d+)(/.*)?$", path)
                if m and self.command == "GET" and not m.group(2):
                    return self._json(200, {"id": int(m.group(1)), "fromRef": {"latestCommit": server.pr_head}})
                if m and m.group(2) == "/activities":
                    values = [{"action": "COMMENTED", "comment": c} for c in server.comments.values()]
                    return self._json(200, {"values": values, "isLastPage": True, "start": 0, "size": len(values)})
                if m and m.group(2) == "/comments" and self.command == "POST":
                    cid = len(server.comments) + 1
                    server.comments[cid] = {"id": cid, "version": 0, "text": body["text"]}
                    return self._json(201, server.comments[cid])
                c = re.search(r"/comments/(\d+)$", path)
                if c and self.command == "GET":
                    return self._json(200, server.comments[int(c.group(1))])
                if c and self.command == "PUT":
                    comment = server.comments[int(c.group(1))]
                    if body.get("version") != comment["version"]:
                        return self._json(409, {"errors": [{"message": "version mismatch"}]})
                    comment["text"], comment["version"] = body["text"], comment["version"] + 1
                    return self._json(200, comment)
                if self.command == "DELETE":
                    return self._send(204, b"")
                return self._json(200 if self.command == "PUT" else 204, {} if self.command == "PUT" else None)

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, b"" if payload is None else json.dumps(payload).encode())

            def _send(self, status: int, raw: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _drip(self, every: float, count: int) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(count))
                self.end_headers()
                try:
                    for _ in range(count):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(every)
                except OSError:  # the client hung up, as it should
                    return

            def _send_stream(self, status: int, size: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = b" " * 65536
                try:
                    for _ in range(size // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    return

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeBitbucket:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def calls(self, method: str, pattern: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and re.search(pattern, r["path"])]
