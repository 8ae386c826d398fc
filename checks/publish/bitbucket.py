"""Bitbucket Data Center: build status, Code Insights report and annotations, and one PR comment.

The verdict reaches Bitbucket as a build status (the "required builds" merge check uses
it), details as a Code Insights report with annotations on the changed lines, and the diff
summary as one PR comment that is edited in place on re-runs. Everything here is
best-effort: a Bitbucket failure is a warning that never changes the verdict, never loses
the local reports, and never prints the token (read only from BITBUCKET_TOKEN).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checks import __version__
from checks.core.findings import Finding, Severity
from checks.core.settings import bitbucket_budget, bitbucket_timeout
from checks.reports.console import clean
from checks.runner.run import RunResult

REPORT_KEY = "gitops-checks"
# The PR comment is found again by its first line, which renders as plain text: Bitbucket Data Center
# escapes every HTML tag, so an HTML-comment marker would show as literal text.
COMMENT_TITLE = "**gitops-checks** · updated by every build of this pull request"
LEGACY_MARKER = "<!-- gitops-checks -->"  # comments of older versions: found, and rewritten without it
MAX_ANNOTATIONS = 1000
SEVERITY = {Severity.ERROR: "HIGH", Severity.WARNING: "MEDIUM", Severity.NOTICE: "LOW"}
MAX_BODY_BYTES = 8 * 1024 * 1024  # a page of PR activities is tens of KiB; a 300 MiB body is an attack
MAX_REDIRECTS = 3
MAX_RETRY_AFTER = 30.0  # seconds; a larger Retry-After is cut to this, and the budget bounds the sum
DEFAULT_BUDGET_SECONDS = 120.0  # all Bitbucket calls of one run together (GITOPS_CHECKS_BITBUCKET_BUDGET)


class BitbucketError(Exception):
    pass


@dataclass
class Target:
    url: str
    project: str
    repo: str
    commit: str
    token: str
    pr: int | None = None
    build_url: str | None = None
    build_key: str = "gitops-checks"
    build_name: str = "gitops-checks"
    ref: str | None = None

    @classmethod
    def from_options(cls, url: str | None, project: str | None, repo: str | None, commit: str | None,
                     pr: str | None, environ: dict[str, str] | None = None) -> Target:
        env = os.environ if environ is None else environ
        values = {
            "url": url or env.get("BITBUCKET_URL"), "project": project or env.get("BITBUCKET_PROJECT"),
            "repo": repo or env.get("BITBUCKET_REPO"), "commit": commit or env.get("BITBUCKET_COMMIT")
            or env.get("GIT_COMMIT"),
        }
        missing = [k for k, v in values.items() if not v]
        if missing:
            raise BitbucketError("--report bitbucket needs " + ", ".join(f"--bitbucket-{m}" if m != "commit"
                                                                          else "--commit" for m in missing)
                                 + " (or BITBUCKET_URL, BITBUCKET_PROJECT, BITBUCKET_REPO, BITBUCKET_COMMIT)")
        token = env.get("BITBUCKET_TOKEN")
        if not token:
            raise BitbucketError("--report bitbucket needs the token in BITBUCKET_TOKEN")
        pr_value = pr or env.get("BITBUCKET_PR")
        try:
            pr_id = int(pr_value) if pr_value else None
        except ValueError:
            raise BitbucketError(f"--pr {pr_value!r} is not a pull request number") from None
        return cls(str(values["url"]).rstrip("/"), str(values["project"]), str(values["repo"]),
                   str(values["commit"]), token, pr_id, env.get("BUILD_URL"), ref=env.get("BITBUCKET_REF"))


class Budget:
    """The time all Bitbucket calls of one run may take together: a slow or hostile server costs
    the run at most this, never the verdict or the local reports."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.deadline: float | None = None  # set by the first call: the checks' own time is not Bitbucket's
        self.seconds = seconds

    def left(self) -> float:
        if self.deadline is None:
            self.deadline = self.clock() + self.seconds
        return self.deadline - self.clock()


class _Abort(Exception):
    """One attempt failed in a way worth retrying (timeout, refused connection, reset)."""


class Client:
    """JSON over HTTP(S) with bounded retries on 429, 5xx, timeouts and refused connections.

    Every request has a total deadline (connect, send, headers and body together, enforced by
    closing the socket: a server dripping one byte a second trips it), and all requests share
    one `Budget`. Redirects are followed only within the same scheme, host and port (the token
    never goes anywhere else); response bodies are read up to `max_body` bytes; `Retry-After`
    is honoured up to `max_wait` seconds.
    """

    def __init__(self, base_url: str, token: str, timeout: float = 10.0, attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep, max_wait: float = MAX_RETRY_AFTER,
                 budget: Budget | None = None, max_body: int = MAX_BODY_BYTES) -> None:
        self.base = base_url.rstrip("/") + "/rest"
        parts = urllib.parse.urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BitbucketError(f"Bitbucket URL {base_url!r}: expected http:// or https:// and a host")
        self.origin = _origin(parts)
        self._token = token
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.max_wait = max_wait
        self.budget = budget or Budget(DEFAULT_BUDGET_SECONDS)
        self.max_body = max_body

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        return f"Client({self.base!r})"

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None,
                ok: tuple[int, ...] = (200, 201, 204)) -> tuple[int, Any]:
        url = self.base + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        last = "no attempt"
        for attempt in range(self.attempts):
            if self.budget.left() <= 0:
                raise BitbucketError(f"{method} {path}: the time for Bitbucket ({self.budget.seconds:g} s) is used up")
            wait = min(self.max_wait, 0.5 * 2 ** attempt)
            try:
                status, headers, raw = self._once(method, url, data)
            except _Abort as exc:
                last = str(exc)
            else:
                payload = _json(raw)
                if status in ok:
                    return status, payload
                if status == 429 or status >= 500:
                    retry_after = headers.get("Retry-After")
                    if retry_after and retry_after.strip().isdigit():
                        wait = min(self.max_wait, float(retry_after))
                    last = f"HTTP {status}"
                else:
                    raise BitbucketError(f"{method} {path}: HTTP {status}{_detail(payload)}")
            if attempt + 1 < self.attempts:
                if wait >= self.budget.left():
                    break
                self.sleep(wait)
        raise BitbucketError(f"{method} {path}: gave up after {attempt + 1} attempts ({last})")

    def _once(self, method: str, url: str, data: bytes | None) -> tuple[int, dict[str, str], bytes]:
        """One request, following same-origin redirects; the whole exchange within one deadline."""
        deadline = min(self.timeout, self.budget.left())
        started = time.monotonic()
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - (time.monotonic() - started)
            if left <= 0:
                raise _Abort("TimeoutError")
            status, headers, raw = self._exchange(method, url, data, left)
            if status not in (301, 302, 303, 307, 308):
                return status, headers, raw
            target = urllib.parse.urljoin(url, headers.get("Location", ""))
            if _origin(urllib.parse.urlsplit(target)) != self.origin:
                # urllib would copy the Authorization header to wherever the server points
                raise BitbucketError(f"{method} {urllib.parse.urlsplit(url).path}: HTTP {status} redirect to "
                                     "another origin refused (the token is sent only to the configured URL)")
            url = target
            if status == 303:
                method, data = "GET", None
        raise BitbucketError(f"{method} {urllib.parse.urlsplit(url).path}: more than {MAX_REDIRECTS} redirects")

    def _exchange(self, method: str, url: str, data: bytes | None, seconds: float) -> tuple[int, dict[str, str], bytes]:
        parts = urllib.parse.urlsplit(url)
        conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_class(parts.hostname or "", parts.port, timeout=seconds)
        # The per-read timeout alone lets a dripping server stall forever: close the socket at the deadline.
        expired = threading.Event()
        sockets: list[socket.socket] = []  # http.client drops conn.sock once the response owns it
        timer = threading.Timer(seconds, _shut, (sockets, expired))
        timer.daemon = True
        timer.start()
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   "User-Agent": f"gitops-checks/{__version__}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        resp: http.client.HTTPResponse | None = None
        try:
            conn.connect()
            if conn.sock is not None:
                sockets.append(conn.sock)
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(self.max_body + 1)
            if len(raw) > self.max_body:
                raise BitbucketError(f"{method} {parts.path}: response body over {self.max_body} bytes; not read")
            if expired.is_set() or (resp.length is not None and resp.length > 0):
                raise _Abort("TimeoutError (total deadline)")  # cut short: never use half a response
            return resp.status, {k: v for k, v in resp.getheaders()}, raw
        except (BitbucketError, _Abort):
            raise
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set():
                raise _Abort("TimeoutError (total deadline)") from None
            raise _Abort(type(exc).__name__) from None
        finally:
            timer.cancel()
            _shut(sockets, threading.Event())
            if resp is not None:
                resp.close()  # its file object holds the socket open otherwise
            conn.close()


def _shut(sockets: list[socket.socket], expired: threading.Event) -> None:
    expired.set()
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int]:
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"_malformed": True}


def _detail(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list) and payload["errors"]:
        message = payload["errors"][0].get("message") if isinstance(payload["errors"][0], dict) else None
        return f": {str(message)[:200]}" if message else ""
    return ""


def _repo_path(t: Target) -> str:
    return f"/projects/{urllib.parse.quote(t.project)}/repos/{urllib.parse.quote(t.repo)}"


def head_commit(client: Client, t: Target) -> str:
    """Jenkins may have checked out a merge commit: statuses belong on the PR's head commit."""
    if t.pr is None:
        return t.commit
    _, pr = client.request("GET", f"/api/latest{_repo_path(t)}/pull-requests/{t.pr}")
    latest = pr.get("fromRef", {}).get("latestCommit") if isinstance(pr, dict) else None
    return str(latest) if latest else t.commit


def build_status(t: Target, commit_state: str, result: RunResult, duration_ms: int) -> dict:
    """The run's verdict as a build status (SUCCESSFUL or FAILED)."""
    failed = result.count(Severity.ERROR)
    body: dict[str, Any] = {"key": t.build_key, "state": commit_state, "name": t.build_name,
                            "url": t.build_url or f"{t.url}{'/projects/' + t.project}",
                            "description": _summary(result), "parent": t.build_key, "duration": duration_ms,
                            "testResults": {"failed": failed, "successful": max(0, len(result.checks_run) - failed),
                                            "skipped": 0}}
    if t.ref:
        body["ref"] = t.ref
    return body


def _summary(result: RunResult) -> str:
    return (f"{result.count(Severity.ERROR)} errors, {result.count(Severity.WARNING)} warnings, "
            f"{result.units} units")


def annotation(f: Finding) -> dict:
    family = f.check.split("/", 1)[0]
    kind = "VULNERABILITY" if family == "secrets" else ("BUG" if family in ("yaml", "schema", "consistency",
                                                                             "appset", "internal") else "CODE_SMELL")
    return {"path": str(f.path)[:500], "line": int(f.line or 0), "message": clean(f"[{f.check}] {f.message}")[:2000],
            "severity": SEVERITY[f.severity], "type": kind, "externalId": f.fingerprint[:450]}


def insight_report(result: RunResult, failed: bool, t: Target, omitted: int) -> dict:
    details = _summary(result) + (f"; {omitted} findings in the other repository are not annotated here"
                                  if omitted else "")
    return {
        "title": "gitops-checks", "details": details[:2000], "result": "FAIL" if failed else "PASS",
        "reporter": f"gitops-checks {__version__}", **({"link": t.build_url} if t.build_url else {}),
        "data": [
            {"title": "Errors", "type": "NUMBER", "value": result.count(Severity.ERROR)},
            {"title": "Warnings", "type": "NUMBER", "value": result.count(Severity.WARNING)},
            {"title": "Units checked", "type": "NUMBER", "value": result.units},
            {"title": "Files checked", "type": "NUMBER", "value": result.files},
            {"title": "Duration", "type": "DURATION", "value": int(result.duration * 1000)},
        ],
    }


def is_ours(text: str) -> bool:
    """The comment this suite wrote: its first line is the title (or an older version's marker is in it)."""
    return text.split("\n", 1)[0].strip() == COMMENT_TITLE or LEGACY_MARKER in text


class Publisher:
    """Posts the build status, Code Insights and the PR comment within one time budget.

    Called once the checks have run and the local reports are written: a slow, hanging or
    hostile server can cost the run at most the budget, never the verdict or a local report.
    No INPROGRESS status is posted: it would be the first call, made before any report exists.
    """

    def __init__(self, target: Target, client: Client | None = None, warn: Callable[[str], None] | None = None):
        self.t = target
        timeout = bitbucket_timeout()
        budget = Budget(bitbucket_budget(DEFAULT_BUDGET_SECONDS))  # starts with the first call
        self.client = client or Client(target.url, target.token, timeout=timeout, budget=budget)
        self.warn = warn or (lambda m: print(f"gitops-checks: warning: Bitbucket: {m}", file=sys.stderr))

    def _safe(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except BitbucketError as exc:
            self.warn(f"{what} failed: {str(exc).replace(self.t.token, '***')}")
        except Exception as exc:
            self.warn(f"{what} failed: {type(exc).__name__}")
        return None

    def publish(self, result: RunResult, failed: bool, comment: str | None) -> None:
        commit = self._safe("reading the pull request", lambda: head_commit(self.client, self.t)) or self.t.commit
        base = f"{_repo_path(self.t)}/commits/{commit}"
        self._safe("build status", lambda: self.client.request(
            "POST", f"/api/latest{base}/builds",
            build_status(self.t, "FAILED" if failed else "SUCCESSFUL", result, int(result.duration * 1000))))
        mine = [f for f in result.findings if f.path and f.repo in (self.t.repo, None)]
        omitted = sum(1 for f in result.findings if f.path and f.repo not in (self.t.repo, None))
        mine.sort(key=lambda f: (-int(f.severity), f.sort_key()))
        self._safe("Code Insights report", lambda: self.client.request(
            "PUT", f"/insights/latest{base}/reports/{REPORT_KEY}", insight_report(result, failed, self.t, omitted)))
        self._safe("clearing old annotations", lambda: self.client.request(
            "DELETE", f"/insights/latest{base}/reports/{REPORT_KEY}/annotations", ok=(200, 204, 404)))
        if mine:
            annotations = [annotation(f) for f in mine[:MAX_ANNOTATIONS]]
            self._safe("annotations", lambda: self.client.request(
                "POST", f"/insights/latest{base}/reports/{REPORT_KEY}/annotations", {"annotations": annotations}))
        if comment is not None and self.t.pr is not None:
            self._safe("pull request comment", lambda: self._comment(COMMENT_TITLE + "\n\n" + comment))

    def _comment(self, text: str) -> None:
        path = f"/api/latest{_repo_path(self.t)}/pull-requests/{self.t.pr}"
        existing = self._find_comment(path)
        if existing is None:
            self.client.request("POST", f"{path}/comments", {"text": text})
            return
        comment_id, version = existing
        for _ in range(3):
            status, _ = self.client.request("PUT", f"{path}/comments/{comment_id}", {"text": text, "version": version},
                                            ok=(200, 409))
            if status == 200:
                return
            _, fresh = self.client.request("GET", f"{path}/comments/{comment_id}")  # someone edited it: refresh
            version = int(fresh.get("version", version)) if isinstance(fresh, dict) else version
        raise BitbucketError("the PR comment kept changing under us (409)")

    def _find_comment(self, path: str) -> tuple[int, int] | None:
        start = 0
        for _ in range(20):  # bounded paging
            _, page = self.client.request("GET", f"{path}/activities", query={"start": start, "limit": 100})
            if not isinstance(page, dict):
                return None
            for activity in page.get("values", []):
                comment = activity.get("comment") if isinstance(activity, dict) else None
                if isinstance(comment, dict) and is_ours(str(comment.get("text", ""))):
                    return int(comment["id"]), int(comment.get("version", 0))
            if page.get("isLastPage", True):
                return None
            start = int(page.get("nextPageStart", start + 100))
        return None
