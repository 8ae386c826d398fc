"""detect-secrets is loaded without `requests` (import time, issue #20) and can never reach the network."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest

from checks.engines.offline_requests import RequestException, _stand_in, detect_secrets_offline


def test_detectors_load_without_requests_and_still_find_secrets() -> None:
    # a fresh interpreter: this test process may have imported requests already
    code = textwrap.dedent("""
        import sys
        from checks.engines.secret_scan import Detectors
        found = Detectors().scan_line('password: "Xk29fjQ0pLm3aQz7Rt5YbW8nVc2"', "values.yaml")
        assert "Secret Keyword" in found, found
        assert "requests" not in sys.modules, "requests was imported"
        import detect_secrets.plugins.slack as slack
        try:
            slack.requests.post("https://slack.com/api/auth.test")
        except slack.requests.exceptions.RequestException as exc:
            print("refused:", exc)
        import requests  # the real one, for anyone else
        assert requests is not slack.requests and hasattr(requests, "Session")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: gitops-checks never verifies secrets online" in proc.stdout


def test_stand_in_refuses_every_request() -> None:
    stand_in = _stand_in()
    with pytest.raises(RequestException):
        stand_in.get("http://127.0.0.1:1/")
    with pytest.raises(stand_in.exceptions.RequestException):
        stand_in.post("http://127.0.0.1:1/", data="secret")


def test_stand_in_only_while_detect_secrets_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "requests", raising=False)
    with detect_secrets_offline():
        assert sys.modules["requests"].exceptions.RequestException is RequestException
    assert "requests" not in sys.modules
    real = types.ModuleType("requests")
    monkeypatch.setitem(sys.modules, "requests", real)
    with detect_secrets_offline():  # loaded already: used as it is
        assert sys.modules["requests"] is real
    assert sys.modules["requests"] is real
