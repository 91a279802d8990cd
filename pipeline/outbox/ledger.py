"""The outbox's part of the journal: write-ahead intents, exported versions, pulls.

An intent is the plan of one batch (the outbox files with the objects and row digests each
holds, and every event of the batch with its outcome), committed *before* anything is written.
Its state says how far the batch got::

    planned    temp files may be partly written; nothing is visible     -> discard, fetch again
    written    every temp file is complete and fsynced; renames pending -> finish the renames
    committed  files published, objects and events journaled           -> lock, events_Done
    done       events_Done answered                                     (discarded: dropped)

Tables ``events``, ``exported_objects`` and ``pulls`` are the journal's own (see
:mod:`pipeline.state.journal`); ``outbox_intents`` is created here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.outbox.export_mapping import Lookup
from pipeline.state.journal import Journal

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_intents (
    id INTEGER PRIMARY KEY,
    pull_id INTEGER,
    created REAL NOT NULL,
    state TEXT NOT NULL,           -- planned, written, committed, done, discarded
    plan TEXT NOT NULL             -- JSON of Plan
);
CREATE INDEX IF NOT EXISTS outbox_intents_state ON outbox_intents (state);
"""

UNFINISHED = ("planned", "written", "committed")


@dataclass
class PlannedFile:
    name: str
    export: str
    objects: list[tuple[str, str, str]] = field(default_factory=list)  # (id, digest, change)
    rows: int = 0


@dataclass
class EventOutcome:
    id: str
    type: str
    entry: str
    mission: str
    date: str
    outcome: str  # exported, unchanged, superseded, skipped: <why>, held: <why> (never done)
    files: list[str] = field(default_factory=list)


@dataclass
class Plan:
    files: list[PlannedFile] = field(default_factory=list)
    events: list[EventOutcome] = field(default_factory=list)
    lock: list[tuple[str, str, str]] = field(default_factory=list)  # orders: (id, type, store)

    def to_json(self) -> str:
        # as json.dumps(asdict(self)), without asdict's deep copy of every field
        data = {
            "files": [
                {"name": f.name, "export": f.export, "objects": f.objects, "rows": f.rows}
                for f in self.files
            ],
            "events": [
                {"id": e.id, "type": e.type, "entry": e.entry, "mission": e.mission,
                 "date": e.date, "outcome": e.outcome, "files": e.files}
                for e in self.events
            ],
            "lock": self.lock,
        }  # fmt: skip
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls(
            files=[
                PlannedFile(f["name"], f["export"], [tuple(o) for o in f["objects"]], f["rows"])
                for f in data["files"]
            ],
            events=[EventOutcome(**e) for e in data["events"]],
            lock=[tuple(x) for x in data["lock"]],
        )


@dataclass(frozen=True)
class Intent:
    id: int
    state: str
    plan: Plan


def ensure_schema(journal: Journal) -> None:
    journal.db.executescript(SCHEMA)


def record_plan(journal: Journal, plan: Plan, pull_id: int | None) -> int:
    """Commit a batch's plan before writing anything; its intent id."""
    with journal.transaction() as db:
        cur = db.execute(
            "INSERT INTO outbox_intents (pull_id, created, state, plan) "
            "VALUES (?, ?, 'planned', ?)",
            (pull_id, time.time(), plan.to_json()),
        )
    return int(cur.lastrowid or 0)


def set_state(journal: Journal, intent_id: int, state: str) -> None:
    with journal.transaction() as db:
        db.execute("UPDATE outbox_intents SET state = ? WHERE id = ?", (state, intent_id))


def unfinished(journal: Journal) -> list[Intent]:
    rows = journal.db.execute(
        "SELECT id, state, plan FROM outbox_intents WHERE state IN (?, ?, ?) ORDER BY id",
        UNFINISHED,
    ).fetchall()
    return [Intent(int(r[0]), str(r[1]), Plan.from_json(r[2])) for r in rows]


def last_digests(journal: Journal, export: str, ids: Iterable[str]) -> dict[str, str]:
    """The digest of the last exported version of each object (absent: never exported)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = journal.db.execute(
            "SELECT object_id, digest FROM exported_objects "
            f"WHERE type = ? AND object_id IN ({marks})",
            (export, *chunk),
        )
        found.update({str(r[0]): str(r[1]) for r in rows})
    return found


def commit(
    journal: Journal, intent_id: int, plan: Plan, *, published: set[str] | None = None
) -> None:
    """Journal what the batch put in the outbox, in one transaction.

    ``published`` (a recovery of a partial batch) limits the objects journaled to those files;
    its events are then not journaled, and the intent is discarded: they come again.
    """
    complete = published is None or all(f.name in published for f in plan.files)
    now = time.time()
    with journal.transaction() as db:
        for planned in plan.files:
            if published is not None and planned.name not in published:
                continue
            db.executemany(
                "INSERT INTO exported_objects (type, object_id, digest, versions, last_file) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (type, object_id) DO UPDATE SET "
                "digest = excluded.digest, versions = versions + 1, last_file = excluded.last_file",
                [(planned.export, oid, dig, planned.name) for oid, dig, _ in planned.objects],
            )
        if complete:
            db.executemany(
                "INSERT OR REPLACE INTO events (event_id, type, entry, mission, date, outcome, "
                "outbox_file, journaled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.id,
                        e.type,
                        e.entry,
                        e.mission,
                        e.date,
                        e.outcome,
                        ",".join(e.files) or None,
                        now,
                    )
                    for e in plan.events
                ],
            )
        db.execute(
            "UPDATE outbox_intents SET state = ? WHERE id = ?",
            ("committed" if complete else "discarded", intent_id),
        )


def acknowledged(journal: Journal, intent_id: int, event_ids: Iterable[str]) -> None:
    now = time.time()
    with journal.transaction() as db:
        db.executemany(
            "UPDATE events SET acknowledged_at = ? WHERE event_id = ?",
            [(now, i) for i in event_ids],
        )
        db.execute("UPDATE outbox_intents SET state = 'done' WHERE id = ?", (intent_id,))


def start_pull(journal: Journal, run_id: int | None) -> int:
    with journal.transaction() as db:
        cur = db.execute("INSERT INTO pulls (run_id, started) VALUES (?, ?)", (run_id, time.time()))
    return int(cur.lastrowid or 0)


def finish_pull(journal: Journal, pull_id: int, summary: dict[str, Any]) -> None:
    with journal.transaction() as db:
        db.execute(
            "UPDATE pulls SET finished = ?, fetched = ?, exported = ?, acknowledged = ?, files = ? "
            "WHERE id = ?",
            (
                time.time(),
                summary["fetched"],
                summary["exported"],
                summary["acknowledged"],
                json.dumps(summary["outbox_files"]),
                pull_id,
            ),
        )


def catalogue_lookup(journal: Journal) -> Lookup:
    """(product, variation, size) -> (full sku, ean) from the catalogue index, cached per pull."""

    @lru_cache(maxsize=65536)
    def lookup(product: str, variation: str, size: str) -> tuple[str | None, str | None] | None:
        row = journal.db.execute(
            "SELECT sku, ean FROM catalogue WHERE product = ? AND variation = ? AND size = ?",
            (product, variation, size),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    return lookup
