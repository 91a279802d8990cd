"""Faults on demand, for reliability tests: latency, HTTP 500/503, dropped connections, SOAP
Server faults.

Each kind fires for the next N SOAP calls (``http_503=2``) and/or at a rate (``rates={"http_503":
0.1}``) drawn from a seeded random generator, so a test can be exact and a soak test
repeatable. Faults apply to SOAP POSTs only, never to the WSDL, the page or the admin calls.
"""

from __future__ import annotations

import random
import threading
from typing import Any

#: In the order a request meets them.
KINDS = ("drop_before", "http_500", "http_503", "soap_fault", "drop_after")
DESCRIPTIONS = {
    "drop_before": "close the connection before reading the request body (nothing applied)",
    "http_500": "answer HTTP 500 without a SOAP body (nothing applied)",
    "http_503": "answer HTTP 503 Service Unavailable (nothing applied)",
    "soap_fault": "answer a SOAP Fault with faultcode Server (nothing applied)",
    "drop_after": "apply the request, then close the connection without answering",
}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.latency_ms = 0
            self.counts = dict.fromkeys(KINDS, 0)
            self.rates = dict.fromkeys(KINDS, 0.0)
            self.seed: int | None = None
            self._rng = random.Random()

    def set(self, config: dict[str, Any]) -> None:
        """Update the given settings; raise ValueError (naming the key) for a bad one."""
        unknown = set(config) - {"latency_ms", "rates", "seed", *KINDS}
        if unknown:
            raise ValueError(
                f"unknown fault setting(s) {sorted(unknown)}: use latency_ms, rates, seed, "
                + ", ".join(KINDS)
            )
        rates = config.get("rates") or {}
        bad_rates = set(rates) - set(KINDS)
        if bad_rates:
            raise ValueError(f"unknown fault kind(s) in rates: {sorted(bad_rates)}")
        with self._lock:
            if "latency_ms" in config:
                self.latency_ms = _non_negative("latency_ms", config["latency_ms"])
            for kind in KINDS:
                if kind in config:
                    self.counts[kind] = _non_negative(kind, config[kind])
            for kind, rate in rates.items():
                value = float(rate)
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"rate of {kind} must be between 0 and 1, not {rate!r}")
                self.rates[kind] = value
            if "seed" in config:
                self.seed = None if config["seed"] is None else int(config["seed"])
                self._rng = random.Random(self.seed)

    def take(self, kind: str) -> bool:
        """Whether ``kind`` fires for this call (a count is used up when it does)."""
        with self._lock:
            if self.counts[kind] > 0:
                self.counts[kind] -= 1
                return True
            rate = self.rates[kind]
            return bool(rate) and self._rng.random() < rate

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                **self.counts,
                "rates": {k: v for k, v in self.rates.items() if v},
                "seed": self.seed,
            }


def _non_negative(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number
