"""The guide's connection test: events_Get is read-only, "nothing bad can happen"."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.centra.client import CentraClient


@dataclass(frozen=True)
class PingResult:
    url: str
    username: str
    queued_events: int
    attempts: int

    @property
    def summary(self) -> str:
        more = "+" if self.queued_events >= 100 else ""
        return (
            f"OK: {self.url} answered as user {self.username!r}; "
            f"{self.queued_events}{more} event(s) queued"
        )


def ping(client: CentraClient) -> PingResult:
    """Call events_Get (type all) and report how many events wait (Centra returns at most 100)."""
    events = client.events_get("all")
    return PingResult(client.url, client.username, len(events), client.last_attempts)
