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
from pipeline.mapping.batches import frozen_group, merge_items
from pipeline.mapping.engine import MappedObject

log = logging.getLogger(__name__)

SENT, SKIPPED, FAILED = "sent", "skipped", "failed"


@dataclass(frozen=True)
class Outcome:
    status: str  # sent, skipped, failed
    message: str = ""


#: The usual outcome, shared (a catalogue has hundreds of thousands of objects).
SENT_QUIETLY = Outcome(SENT)


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
        middle = _split_point([frozen_group(objects[i]) for i in indexes])
        if middle is None:  # one object, or the parts of one size table: they fail together
            message = explain(operation, exc.errors, exc.notices)
            for i in indexes:
                outcomes[i] = Outcome(FAILED, message)
            return
        log.info(
            "%s: Centra refused a chunk of %d; splitting it to find the bad objects",
            operation,
            len(indexes),
        )
        _send(client, objects, indexes[:middle], outcomes, on_request)
        _send(client, objects, indexes[middle:], outcomes, on_request)
        return
    chunk = [objects[i] for i in indexes]
    for i, message in zip(indexes, attach_notices(chunk, result.notices), strict=True):
        outcomes[i] = Outcome(SENT, message) if message else SENT_QUIETLY


def _split_point(groups: list[str | None]) -> int | None:
    """Where to halve a refused chunk: the boundary nearest its middle that does not cut a
    size table in two (chunks hold each table's sizes together), or None if there is none."""
    middle = len(groups) // 2
    cuts = [n for n in range(1, len(groups)) if groups[n] is None or groups[n] != groups[n - 1]]
    return min(cuts, key=lambda n: abs(n - middle)) if cuts else None


def attach_notices(objects: Sequence[MappedObject], notices: Sequence[str]) -> list[str]:
    """Centra's notices, each on the objects it concerns, as report messages.

    A notice concerns an object when it names it: ``Added new size: S: Small to: Small Medium
    Large!`` names the size S of that sizetable; otherwise a notice that contains an object's
    key names that object. A notice that names none of them concerns the whole request and is
    put on every object of it, so no message of Centra's is lost.
    """
    mine: list[list[str]] = [[] for _ in objects]
    for notice in notices:
        hits = [i for i, obj in enumerate(objects) if _names(notice, obj)]
        for i in hits or range(len(objects)):
            mine[i].append(notice)
    return [f"Centra: {'; '.join(m)}" if m else "" for m in mine]


def _names(notice: str, obj: MappedObject) -> bool:
    if obj.entity == "sizes":
        size = obj.item.get("id", "")
        table = obj.item.get("sizetable") or {}
        prefix = f"Added new size: {size}: "
        if notice.startswith(prefix):
            described = table.get("description")
            return described is None or notice.endswith(f" to: {described}!")
    return bool(obj.key) and obj.key in notice
