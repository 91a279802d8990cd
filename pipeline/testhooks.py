"""Crash points for the crash tests (test-only).

``CENTRA_PIPELINE_CRASH_AT=<point>[,<point>...]`` makes the process SIGKILL itself when it
reaches a named point, so tests can prove that a run killed exactly there loses nothing. With
``<point>@N`` it dies the N-th time it reaches the point. Unset in normal use: then each call
is one dictionary lookup.

``CENTRA_PIPELINE_PAUSE_AT=<point>=<seconds>[,...]`` makes it sleep there instead, so a test
can change a file while a run is at a known point (a writer still copying, say).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

_ENV = "CENTRA_PIPELINE_CRASH_AT"
_PAUSE_ENV = "CENTRA_PIPELINE_PAUSE_AT"
_seen: Counter[str] = Counter()


def crash_point(name: str) -> None:
    pauses = os.environ.get(_PAUSE_ENV)
    if pauses:
        for item in pauses.split(","):
            point, _, seconds = item.strip().partition("=")
            if point == name:
                time.sleep(float(seconds or 1))
    spec = os.environ.get(_ENV)
    if not spec:
        return
    _seen[name] += 1
    for item in spec.split(","):
        point, _, nth = item.strip().partition("@")
        if point == name and _seen[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
