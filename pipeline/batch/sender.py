"""Send mapped objects to Centra in chunks, and find the bad ones when Centra says no.

A chunk answered with ``success=false`` is split in halves, and each half sent again, until the
objects Centra refuses are isolated: one bad product does not fail its 99 neighbours, and
Centra's messages are attached to the objects (and so to the rows) they concern. Re-sending the
good half is safe because every *_Update is an upsert.

Objects whose dependency failed earlier in the run (stock and prices of a failed product) are
not sent; they are reported ``skipped`` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.batch.messages import explain
from pipeline.centra.client import CentraClient
from pipeline.errors import CentraRejected
from pipeline.mapping.batches import merge_items
from pipeline.mapping.engine import MappedObject

log = logging.getLogger(__name__)

SENT, SKIPPED, FAILED = "sent", "skipped", "failed"


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, skipped, failed
    message: str = ""


class FailureBook:
    """The (entity, key) pairs that failed in this run, so that dependants are skipped."""

    def __init__(self) -> None:
        self._failed: dict[tuple[str, str], str] = {}

    def fail(self, entity: str, key: str, message: str) -> None:
        self._failed.setdefault((entity, key), message)

    def blocking(self, obj: MappedObject) -> str | None:
        for dependency in obj.depends_on:
            if dependency in self._failed:
                entity, key = dependency
                return f"not sent: {entity[:-1] if entity.endswith('s') else entity} {key} failed"
        return None


def send_chunk(
    client: CentraClient,
    objects: Sequence[MappedObject],
    failures: FailureBook,
    *,
    on_request: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Send one chunk (objects of one operation); return one outcome per object, in order.

    CentraError other than success=false (unreachable, login refused, faults) propagates: the
    whole run stops and the chunk is retried by the next run.
    """
    outcomes: list[Outcome | None] = [None] * len(objects)
    to_send: list[int] = []
    for i, obj in enumerate(objects):
        reason = failures.blocking(obj)
        if reason:
            outcomes[i] = Outcome(SKIPPED, reason)
        else:
            to_send.append(i)
    if to_send:
        _send(client, objects, to_send, outcomes, on_request)
    for i, outcome in enumerate(outcomes):
        assert outcome is not None
        if outcome.status != SENT:
            failures.fail(objects[i].entity, objects[i].key, outcome.message)
    return [o for o in outcomes if o is not None]


def _send(
    client: CentraClient,
    objects: Sequence[MappedObject],
    indexes: list[int],
    outcomes: list[Outcome | None],
    on_request: Callable[[int], None] | None,
) -> None:
    operation = objects[indexes[0]].operation
    try:
        if on_request:
            on_request(len(indexes))
        result = client.update(operation, merge_items([objects[i] for i in indexes]))
    except CentraRejected as exc:
        if len(indexes) == 1:
            outcomes[indexes[0]] = Outcome(FAILED, explain(operation, exc.errors, exc.notices))
            return
        log.info(
            "%s: Centra refused a chunk of %d; splitting it to find the bad objects",
            operation,
            len(indexes),
        )
        middle = len(indexes) // 2
        _send(client, objects, indexes[:middle], outcomes, on_request)
        _send(client, objects, indexes[middle:], outcomes, on_request)
        return
    notices = "; ".join(result.notices)
    message = f"Centra: {notices}" if notices and len(indexes) == 1 else ""
    for i in indexes:
        outcomes[i] = Outcome(SENT, message or _notices_for(objects[i].key, result.notices))


def _notices_for(key: str, notices: Sequence[str]) -> str:
    """Centra's notices that name this object (e.g. ``Added new size: S: ...``)."""
    mine = [n for n in notices if key and key in n]
    return f"Centra: {'; '.join(mine)}" if mine else ""
