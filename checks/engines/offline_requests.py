"""detect-secrets without `requests`: its plugins import it only to verify secrets online.

This suite never verifies a secret with the service that issued it (no network, and a
secret is never sent anywhere), yet importing `requests` costs about a tenth of a second
of every run. While detect-secrets loads, `requests` is a stand-in that has the names its
modules touch at import time; the stand-in refuses to send anything. The real `requests`,
for anyone else, is untouched: the stand-in leaves `sys.modules` as soon as detect-secrets
is loaded.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator


class RequestException(Exception):
    """What detect-secrets catches around verification (`requests.exceptions.RequestException`)."""


class Response:
    """Named in detect-secrets' annotations only."""


def _refuse(*args: object, **kwargs: object) -> Response:
    raise RequestException("gitops-checks never verifies secrets online")


def _stand_in() -> types.ModuleType:
    module = types.ModuleType("requests", __doc__)
    module.exceptions = types.SimpleNamespace(RequestException=RequestException)  # type: ignore[attr-defined]
    module.Response = Response  # type: ignore[attr-defined]
    module.get = module.post = _refuse  # type: ignore[attr-defined]
    return module


@contextlib.contextmanager
def detect_secrets_offline() -> Iterator[None]:
    """Import detect-secrets' modules inside this block; if `requests` is loaded already, it is used."""
    if "requests" in sys.modules:
        yield
        return
    stand_in = _stand_in()
    sys.modules["requests"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("requests") is stand_in:
            del sys.modules["requests"]
