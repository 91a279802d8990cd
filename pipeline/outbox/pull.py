"""Pull Centra's event queue into outbox CSV files: every change once, even across crashes.

Per batch (at most 100 events): parse; keep the latest event of each object; build the rows of
every export; plan the batch in the journal (write-ahead intent); write each file under a temp
name and fsync; rename; fsync the folder; journal; lock the orders (if configured); then
events_Done for *every* event of the batch, handled or not. Only then the next events_Get.

An event's object is the child of ``<data>`` named by its ``<type>`` (empty placeholder siblings
are ignored). An event of an exported type whose object cannot be read (no such child, an empty
one, no id) is *held*: journaled, reported in ``warnings``, never written and never
acknowledged, so it stays in Centra's queue; the events behind it go on, and the pull does not
fetch it again (``held`` counts them; ``centra-pipeline pull`` then exits 1).

An object whose rows equal the last version exported writes nothing (a redelivery); one seen
before with other rows is written with ``change=update``, the first time with ``change=new``.
The next pull first completes or discards whatever a killed pull left (see
:mod:`pipeline.outbox.ledger` for the states).

Example::

    with WorkspaceLock(state, "pull"), Journal.open(state / "journal.sqlite") as journal:
        summary = pull_events(settings, client_from_settings(settings), journal)
        print(summary.to_json())
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from pipeline.centra.client import CentraClient
from pipeline.centra.responses import Event
from pipeline.config import Settings
from pipeline.errors import CentraRejected, PipelineError
from pipeline.memory import collector_paused
from pipeline.outbox import csvfile, ledger
from pipeline.outbox.export_mapping import (
    ExportMapping,
    Lookup,
    digest,
    event_object,
    load_export_mappings,
    strip_namespaces,
)
from pipeline.outbox.fast_export import Fallback, FastExport, child_text, compile_fast
from pipeline.outbox.ledger import EventOutcome, Plan, PlannedFile
from pipeline.outbox.xslt_export import XsltExport, compile_xslt
from pipeline.state.journal import Journal
from pipeline.testhooks import crash_point

log = logging.getLogger(__name__)

DONE_CHUNK = 100  # ids per events_Done call: a whole batch (events_Get gives at most 100)
WINDOW = 100  # events_Get gives the oldest 100 events not yet done
COUNTER = "outbox"
HELD = "held: "  # the outcome of an event whose object cannot be read: never acknowledged
#: Fields older Centra versions leave out of an object: a warning names an empty cell for them.
NOTED_ABSENT = {
    "order": {
        "ordernumber": "<id> is Centra's order number unless the ERP gave the order its own id",
        "ordertotal": "Centra documents no formula to compute it from the lines",
    }
}


@dataclass
class PullSummary:
    """What one pull did; ``to_json()`` is the ``events`` object of ``pull --json``."""

    fetched: int = 0
    exported: int = 0  # events whose object was written
    objects: int = 0  # object versions written (one per order change and export)
    rows: int = 0
    skipped: int = 0  # events acknowledged without writing, by reason in ``reasons``
    acknowledged: int = 0
    locked: int = 0
    recovered: int = 0  # batches of a killed pull completed
    held: int = 0  # events whose data cannot be read: not acknowledged, left in the queue
    outbox_files: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "exported": self.exported,
            "objects": self.objects,
            "rows": self.rows,
            "skipped": self.skipped,
            "skipped_by_reason": dict(sorted(self.reasons.items())),
            "acknowledged": self.acknowledged,
            "locked": self.locked,
            "recovered": self.recovered,
            "held": self.held,
            "outbox_files": list(self.outbox_files),
            "warnings": list(self.warnings),
        }

    def text(self) -> str:
        files = ", ".join(self.outbox_files) or "none"
        held = f", {self.held} unreadable and left in Centra's queue" if self.held else ""
        return (
            f"pulled {self.fetched} event(s): {self.exported} exported "
            f"({self.objects} object version(s), {self.rows} row(s)), {self.skipped} skipped"
            f"{held}, {self.acknowledged} acknowledged; outbox files: {files}"
        )


def pull_events(
    settings: Settings,
    client: CentraClient,
    journal: Journal,
    *,
    now: dt.datetime | None = None,
    run_id: int | None = None,
    summary: PullSummary | None = None,
) -> PullSummary:
    """Pull the queue until it is empty. The caller holds the workspace lock.

    ``summary`` (optional) is filled in place, so a caller still sees the progress made when
    an error stops the pull. Raises MappingError (exit 2) before touching the queue when an
    export mapping is wrong, CentraError when Centra fails (nothing is lost: the next pull
    completes the batch in hand).
    """
    mappings = load_export_mappings(settings.folder("mappings") / "export")
    summary = summary if summary is not None else PullSummary()
    ledger.ensure_schema(journal)
    puller = _Puller(settings, client, journal, mappings, summary, now)
    pull_id = ledger.start_pull(journal, run_id)
    puller.pull_id = pull_id
    try:
        puller.recover()
        puller.run()
    except OSError as exc:
        raise PipelineError(
            f"cannot write the outbox or its temp files in {puller.outbox}: {exc}",
            hint="check free space and permissions; nothing unwritten was acknowledged, "
            "the next pull carries on",
        ) from exc
    finally:
        ledger.finish_pull(journal, pull_id, summary.to_json())
    return summary


class _Puller:
    def __init__(
        self,
        settings: Settings,
        client: CentraClient,
        journal: Journal,
        mappings: Sequence[ExportMapping],
        summary: PullSummary,
        now: dt.datetime | None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.orders = settings.file.orders
        self.outbox = settings.folder("outbox")
        self.mappings = {m.name: m for m in mappings}
        self.by_type: dict[str, list[ExportMapping]] = {}
        for m in mappings:
            self.by_type.setdefault(m.event_type, []).append(m)
        # Types whose every export has a fast path are read from the event as it came, with
        # no namespace-stripped copy: by one XSLT run per object, else by the Python walk
        # (an object of an odd shape still falls back to XPath).
        compiled = {m.name: compile_fast(m) for m in mappings}
        self.fast: dict[str, FastExport] = {n: f for n, f in compiled.items() if f is not None}
        sheets = {n: compile_xslt(self.mappings[n]) for n in self.fast}
        self.xslt: dict[str, XsltExport] = {n: x for n, x in sheets.items() if x is not None}
        self.fast_types = {
            t for t, exports in self.by_type.items() if all(m.name in self.fast for m in exports)
        }
        # (field, why, the columns that read it) per type, for NOTED_ABSENT's warnings
        self.noted: dict[str, list[tuple[str, str, str]]] = {}
        for type_, fields in NOTED_ABSENT.items():
            for name, why in fields.items():
                path = f"/{type_}/{name}"
                columns = [
                    f"{m.name}.{c.name}"
                    for m in self.by_type.get(type_, ())
                    for c in m.columns
                    if c.spec is not None and c.spec.path is not None and path in c.spec.path
                ]
                if columns:
                    self.noted.setdefault(type_, []).append((name, why, ", ".join(columns)))
        self.summary = summary
        self.stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.lookup: Lookup = ledger.catalogue_lookup(journal)
        self.pull_id: int | None = None

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        done: set[str] = set()
        held: set[str] = set()  # unreadable: left queued, so Centra gives them again
        while True:
            fetched = self._fetch()
            if not fetched:
                return
            crash_point("after_fetch")
            events = [e for e in fetched if e.id not in held]
            if not events:
                # Only the events this pull could not read are left in the window: stop (a
                # next pull tries them again) rather than fetch them forever.
                if len(fetched) >= WINDOW:
                    self._warn(
                        f"Centra's window of {WINDOW} events is full of events that cannot "
                        "be read: no newer event can be fetched until they are repaired or "
                        "removed in Centra"
                    )
                return
            if all(e.id in done for e in events):
                raise PipelineError(
                    f"Centra returned {len(events)} event(s) already marked done in this pull",
                    hint="events_Done does not seem to remove events; check the Centra endpoint",
                )
            self.summary.fetched += len(events)
            with collector_paused():
                plan, contents = self._plan(events)
            self._execute(plan, contents)
            for e in plan.events:
                if e.outcome.startswith(HELD):
                    held.add(e.id)
                    self.summary.held += 1
                    self._warn(
                        f"event {e.id} ({e.type or '?'} {e.entry or '?'}) cannot be read and is "
                        f"not acknowledged; it stays in Centra's queue: "
                        f"{e.outcome.removeprefix(HELD)}"
                    )
                else:
                    done.add(e.id)

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self.summary.warnings.append(message)

    def _fetch(self) -> list[Event]:
        if self.orders.markets:
            return self.client.events_get_by_markets(self.orders.markets, "all")
        return self.client.events_get("all")

    # -- planning a batch ----------------------------------------------------------------

    def _plan(self, events: Sequence[Event]) -> tuple[Plan, dict[str, bytes]]:
        plan = Plan()
        outcomes: dict[str, EventOutcome] = {}
        latest: dict[tuple[str, str], tuple[Event, etree._Element]] = {}
        absent: dict[str, list[str]] = {}  # event id -> warnings for empty cells
        for event in events:
            outcome = EventOutcome(event.id, event.type, event.entry, event.mission, event.date, "")
            outcomes[event.id] = outcome
            plan.events.append(outcome)
            exports = self.by_type.get(event.type)
            if not event.type and (orphans := self._untyped(event)):
                outcome.outcome = f"{HELD}no <type>, and <data> holds {orphans}"
            elif not exports:
                outcome.outcome = f"skipped: no export for type {event.type or '?'}"
            elif event.mission == "delete":
                outcome.outcome = "skipped: mission delete"
            else:
                found, why = event_object(event.data, event.type)
                if found is None:
                    outcome.outcome = HELD + why
                    continue
                if event.type in self.fast_types:
                    obj = found
                    object_ids = [self.fast[m.name].object_id(obj) for m in exports]
                else:
                    obj = strip_namespaces(found)
                    object_ids = [m.object_id(obj) for m in exports]
                missing = [m for m, oid in zip(exports, object_ids, strict=True) if not oid]
                if missing:
                    m = missing[0]
                    outcome.outcome = (
                        f"{HELD}<{event.type}> has no {m.key.path} (the key of export {m.name})"
                    )
                    continue
                absent[event.id] = self._absent(event, obj, object_ids[0])
                key = (event.type, object_ids[0])
                if key in latest:
                    outcomes[latest[key][0].id].outcome = "superseded"
                latest[key] = (event, obj)
        candidates: dict[str, list[tuple[str, Event, etree._Element, list[Any]]]] = {}
        for (type_, object_id), (event, obj) in latest.items():
            if (
                type_ == "order"
                and _pending_wholesale(obj)
                and not self.orders.export_pending_wholesale
            ):
                outcomes[event.id].outcome = "skipped: pending wholesale order"
                continue
            outcomes[event.id].outcome = "unchanged"
            for mapping in self.by_type[type_]:
                candidates.setdefault(mapping.name, []).append(
                    (object_id, event, obj, self._extract(mapping, type_, obj))
                )
        contents: dict[str, bytes] = {}
        locks: dict[str, tuple[str, str, str]] = {}
        for name, found in candidates.items():
            mapping = self.mappings[name]
            last = ledger.last_digests(self.journal, name, (oid for oid, *_ in found))
            versions = [(oid, ev, obj, rows, digest(rows)) for oid, ev, obj, rows in found]
            changed = [v for v in versions if last.get(v[0]) != v[4]]
            if not changed:
                continue
            planned = PlannedFile(self._file_name(mapping), name)
            rows: list[Sequence[str]] = []
            for object_id, event, obj, extracted, version in changed:
                change = "update" if object_id in last else "new"
                planned.objects.append((object_id, version, change))
                rows.extend(
                    mapping.fill(extracted, change=change, event_id=event.id, event_date=event.date)
                )
                if outcomes[event.id].outcome != "exported":  # once, not once per export
                    for warning in absent.get(event.id, ()):
                        self._warn(warning)
                outcomes[event.id].outcome = "exported"
                outcomes[event.id].files.append(planned.name)
                if mapping.event_type == "order" and self.orders.lock_after_export:
                    locks[object_id] = (object_id, _text(obj, "type"), _text(obj, "store"))
            planned.rows = len(rows)
            guard = [c.neutralise for c in mapping.columns]
            contents[planned.name] = csvfile.render(mapping.header, rows, mapping.csv, guard)
            plan.files.append(planned)
        if self.orders.lock_after_export:
            plan.lock = list(locks.values())
        return plan, contents

    def _untyped(self, event: Event) -> str:
        """An event without a type whose <data> holds an object an export reads: its name."""
        for type_ in self.by_type:
            if event_object(event.data, type_)[0] is not None:
                return f"<{type_}>"
        return ""

    def _absent(self, event: Event, obj: etree._Element, object_id: str) -> list[str]:
        """Warnings for the fields older Centra versions leave out, that an export reads."""
        return [
            f"event {event.id} ({event.type} {object_id}): no <{name}> (older Centra versions "
            f"leave it out), so {columns} is left empty; {why}"
            for name, why, columns in self.noted.get(event.type, ())
            if not _text(obj, name)
        ]

    def _extract(self, mapping: ExportMapping, type_: str, obj: etree._Element) -> list[Any]:
        if type_ not in self.fast_types:
            return mapping.extract(obj, self.lookup)
        xslt = self.xslt.get(mapping.name)
        if xslt is not None:
            try:
                return xslt.extract(obj, self.lookup)
            except Fallback:
                pass  # the fast path reproduces more shapes exactly
        try:
            return self.fast[mapping.name].extract(obj, self.lookup)
        except Fallback:
            return mapping.extract(strip_namespaces(obj), self.lookup)

    def _file_name(self, mapping: ExportMapping) -> str:
        while True:
            seq = self.journal.next_counter(COUNTER)
            name = f"{mapping.file_prefix}-{self.stamp}-{seq:04d}.csv"
            final = self.outbox / name
            if not (final.exists() or csvfile.temp_path(final).exists()):
                return name

    # -- carrying it out -----------------------------------------------------------------

    def _execute(self, plan: Plan, contents: dict[str, bytes]) -> None:
        intent = ledger.record_plan(self.journal, plan, self.pull_id)
        try:
            for planned in plan.files:
                csvfile.write_temp(self.outbox / planned.name, contents[planned.name])
        except OSError:
            # Disk full or no permission: nothing of this batch is published or acknowledged.
            # Free the space at once; the events stay queued and come again.
            for planned in plan.files:
                csvfile.discard_temp(self.outbox / planned.name)
            ledger.set_state(self.journal, intent, "discarded")
            raise
        ledger.set_state(self.journal, intent, "written")
        for planned in plan.files:
            csvfile.publish(self.outbox / planned.name)
            crash_point("after_rename")
        self._markers(plan)
        crash_point("before_commit")
        ledger.commit(self.journal, intent, plan)
        self._count(plan)
        crash_point("after_commit")
        self._finish(intent, plan)

    def _markers(self, plan: Plan) -> None:
        for planned in plan.files:
            final = self.outbox / planned.name
            if self.mappings[planned.export].csv.done_marker and final.exists():
                csvfile.write_marker(final)

    def _count(self, plan: Plan) -> None:
        s = self.summary
        for planned in plan.files:
            s.outbox_files.append(planned.name)
            s.objects += len(planned.objects)
            s.rows += planned.rows
        for e in plan.events:
            if e.outcome == "exported":
                s.exported += 1
            elif e.outcome.startswith(HELD):
                pass  # counted by run(); a recovered batch's held events are fetched again
            else:
                s.skipped += 1
                s.reasons[e.outcome.removeprefix("skipped: ")] += 1
        log.info(
            "batch of %d event(s): %d file(s), %d object(s)",
            len(plan.events),
            len(plan.files),
            sum(len(f.objects) for f in plan.files),
        )

    def _finish(self, intent: int, plan: Plan) -> None:
        """Lock the exported orders (if configured), then acknowledge every event."""
        for chunk in _chunks(plan.lock, 100):
            items = [{"id": i, "type": t, "store": s, "locked": "yes"} for i, t, s in chunk]
            try:
                self.client.update("orders_Update", items)
                self.summary.locked += len(items)
            except CentraRejected as exc:
                # The files are durable: a refused lock must not hold the queue back.
                message = f"lock_after_export: {exc.message}"
                log.warning("%s", message)
                self.summary.warnings.append(message)
        ids = [e.id for e in plan.events if not e.outcome.startswith(HELD)]
        for chunk in _chunks(ids, DONE_CHUNK):
            self.client.events_done(chunk)
            crash_point("during_done")
        ledger.acknowledged(self.journal, intent, ids)
        self.summary.acknowledged += len(ids)

    # -- after a crash -------------------------------------------------------------------

    def recover(self) -> None:
        """Complete or discard the batches a killed pull left, and remove its temp files."""
        for intent in ledger.unfinished(self.journal):
            plan = intent.plan
            if intent.state == "planned":
                log.warning("discarding batch %d of a killed pull; it is fetched again", intent.id)
                for planned in plan.files:
                    csvfile.discard_temp(self.outbox / planned.name)
                ledger.set_state(self.journal, intent.id, "discarded")
                continue
            if intent.state == "written":
                log.warning("completing batch %d of a killed pull", intent.id)
                for planned in plan.files:
                    final = self.outbox / planned.name
                    if csvfile.temp_path(final).exists():
                        csvfile.publish(final)
                self._markers(plan)
                ledger.commit(self.journal, intent.id, plan)
                self._count(plan)
            self._finish(intent.id, plan)
            self.summary.recovered += 1
        for stale in csvfile.stale_temps(self.outbox):
            log.warning("removing %s, left by a killed pull", stale.name)
            stale.unlink()


def _pending_wholesale(obj: etree._Element) -> bool:
    return _text(obj, "type") == "wholesale" and _text(obj, "status") == "pending"


def _text(obj: etree._Element, name: str) -> str:
    return child_text(obj, name)  # by local name: obj may still have its namespaces


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
