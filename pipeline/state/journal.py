"""The journal: what the pipeline has done, in SQLite with durable settings.

It records runs; inbox files by content hash, name and size with their status; per-row
outcomes; request chunks and their outcomes (so a killed run resumes without re-sending what
Centra already acknowledged); the catalogue index for EAN/SKU lookups; sightings of inbox files
(the settle window survives between runs); and on the way out, every event exported and every
order version written, so each order change reaches the outbox exactly once.

Durability: WAL with ``synchronous=FULL``; every public method that changes state commits
before it returns. sqlite3 is used here and nowhere else.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    exit_code INTEGER,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    run_id INTEGER,
    status TEXT NOT NULL,          -- claimed, done, failed, duplicate
    claimed_path TEXT,
    mapping TEXT,
    entities TEXT,
    archive_path TEXT,
    report_path TEXT,
    message TEXT,
    rows_sent INTEGER DEFAULT 0,
    rows_skipped INTEGER DEFAULT 0,
    rows_failed INTEGER DEFAULT 0,
    claimed_at REAL NOT NULL,
    finished_at REAL,
    forced INTEGER DEFAULT 0,      -- push --force: the duplicate check does not apply
    planned_status TEXT,           -- the status it gets once moved to archive_path
    errors_path TEXT               -- its errors file(s), one a line: the rows not sent
);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256, status);
CREATE TABLE IF NOT EXISTS chunks (
    file_id INTEGER NOT NULL,
    target TEXT NOT NULL,          -- "<target index>:<entity>"
    chunk INTEGER NOT NULL,
    status TEXT NOT NULL,          -- done (every object has an outcome)
    outcomes TEXT NOT NULL,        -- JSON: [[status, message], ...] per object of the chunk
    finished_at REAL NOT NULL,
    PRIMARY KEY (file_id, target, chunk)
);
CREATE TABLE IF NOT EXISTS sightings (
    name TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    first_seen REAL NOT NULL,      -- when this size and mtime were first seen
    unmatched_reported INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS catalogue (
    ean TEXT,
    sku TEXT,
    product TEXT NOT NULL,
    variation TEXT NOT NULL,
    size TEXT NOT NULL,
    PRIMARY KEY (product, variation, size)
);
CREATE INDEX IF NOT EXISTS catalogue_ean ON catalogue (ean);
CREATE INDEX IF NOT EXISTS catalogue_sku ON catalogue (sku);
CREATE TABLE IF NOT EXISTS sizetables (
    sizetable TEXT NOT NULL,
    size TEXT NOT NULL,
    PRIMARY KEY (sizetable, size)
);
CREATE TABLE IF NOT EXISTS pulls (
    id INTEGER PRIMARY KEY,
    run_id INTEGER,
    started REAL NOT NULL,
    finished REAL,
    fetched INTEGER DEFAULT 0,
    exported INTEGER DEFAULT 0,
    acknowledged INTEGER DEFAULT 0,
    files TEXT
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    entry TEXT,
    mission TEXT,
    date TEXT,
    outcome TEXT NOT NULL,         -- exported, skipped (why), superseded
    outbox_file TEXT,
    journaled_at REAL NOT NULL,
    acknowledged_at REAL
);
CREATE TABLE IF NOT EXISTS exported_objects (
    type TEXT NOT NULL,            -- order, customer, ...
    object_id TEXT NOT NULL,
    digest TEXT NOT NULL,          -- of the exported rows: the same version is never written twice
    versions INTEGER NOT NULL,
    last_file TEXT NOT NULL,
    PRIMARY KEY (type, object_id)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


#: Columns added after the first release: (table, column, declaration) for older journals.
_ADDED_COLUMNS = (
    ("files", "forced", "INTEGER DEFAULT 0"),
    ("files", "planned_status", "TEXT"),
    ("files", "errors_path", "TEXT"),
)
#: Messages and summaries are capped: a file's content must never blow up the journal.
MAX_MESSAGE = 4000
MAX_SUMMARY = 1_000_000


def cap(text: str | None, limit: int = MAX_MESSAGE) -> str | None:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"... ({len(text) - limit:,} more characters)"


@dataclass(frozen=True)
class FileRecord:
    id: int
    sha256: str
    name: str
    size: int
    status: str
    claimed_path: str | None
    archive_path: str | None
    report_path: str | None
    message: str | None
    run_id: int | None
    forced: bool = False
    planned_status: str | None = None


class Journal:
    """Example::

    with Journal.open(state_dir / "journal.sqlite") as journal:
        run_id = journal.start_run("run")
    """

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self.db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Journal:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(SCHEMA)
        for table, column, declaration in _ADDED_COLUMNS:
            have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        import os

        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (command, pid, started) VALUES (?, ?, ?)",
                (command, os.getpid(), time.time()),
            )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, exit_code: int, summary: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, exit_code = ?, summary = ? WHERE id = ?",
                (time.time(), exit_code, _summary_text(summary), run_id),
            )

    def last_runs(self, limit: int = 5) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, command, started, finished, exit_code, summary FROM runs "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        keys = ("id", "command", "started", "finished", "exit_code", "summary")
        runs = [dict(zip(keys, row, strict=True)) for row in rows]
        for run in runs:  # (stored as JSON text; None while a run is still going)
            run["summary"] = json_value(run["summary"])
        return runs

    # -- inbox files ----------------------------------------------------------------------

    _FILE_COLUMNS = (
        "id, sha256, name, size, status, claimed_path, archive_path, report_path, message, run_id, "
        "forced, planned_status"
    )

    def _file(self, row: Sequence[Any] | None) -> FileRecord | None:
        return None if row is None else self._record(row)

    def done_with_content(self, sha256: str) -> FileRecord | None:
        """A file with this content that was already imported (status done)."""
        row = self.db.execute(
            f"SELECT {self._FILE_COLUMNS} FROM files WHERE sha256 = ? AND status = 'done' "
            "ORDER BY id LIMIT 1",
            (sha256,),
        ).fetchone()
        return self._file(row)

    def claim_file(
        self,
        sha256: str,
        name: str,
        size: int,
        run_id: int,
        claimed_path: str,
        *,
        forced: bool = False,
    ) -> FileRecord:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO files (sha256, name, size, run_id, status, claimed_path, claimed_at, "
                "forced) VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?)",
                (sha256, name, size, run_id, claimed_path, time.time(), int(forced)),
            )
        fid = int(cur.lastrowid or 0)
        return FileRecord(
            fid, sha256, name, size, "claimed", claimed_path, None, None, None, run_id, forced
        )

    def plan_archive(
        self,
        file_id: int,
        archive_path: str,
        report_path: str,
        *,
        status: str,
        message: str | None = None,
        errors_paths: Sequence[str] = (),
    ) -> None:
        """Record where a claimed file is about to be archived (with its report and errors
        files), and the status it will have there, so that a run killed mid-move is finished
        with the right status."""
        with self.transaction() as db:
            db.execute(
                "UPDATE files SET archive_path = ?, report_path = ?, planned_status = ?, "
                "message = ?, errors_path = ? WHERE id = ?",
                (
                    archive_path,
                    report_path,
                    status,
                    cap(message),
                    "\n".join(errors_paths) or None,
                    file_id,
                ),
            )

    def unfinished_files(self) -> list[FileRecord]:
        rows = self.db.execute(
            f"SELECT {self._FILE_COLUMNS} FROM files WHERE status = 'claimed' ORDER BY id"
        ).fetchall()
        return [self._record(r) for r in rows]

    @staticmethod
    def _record(row: Sequence[Any]) -> FileRecord:
        fid, sha, name, size, status, claimed, archive, report, message, run_id = row[:10]
        return FileRecord(
            fid,
            sha,
            name,
            size,
            status,
            claimed,
            archive,
            report,
            message,
            run_id,
            bool(row[10]),
            row[11],
        )

    def has_chunks(self, file_id: int) -> bool:
        """Whether any chunk of this file has been answered (something of it was sent)."""
        return self._one("SELECT 1 FROM chunks WHERE file_id = ? LIMIT 1", (file_id,)) is not None

    def finish_file(
        self,
        file_id: int,
        *,
        status: str,
        archive_path: str | None,
        report_path: str | None,
        message: str | None = None,
        mapping: str | None = None,
        entities: Iterable[str] = (),
        counts: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE files SET status = ?, archive_path = ?, report_path = ?, message = ?, "
                "mapping = ?, entities = ?, rows_sent = ?, rows_skipped = ?, rows_failed = ?, "
                "finished_at = ? WHERE id = ?",
                (
                    status,
                    archive_path,
                    report_path,
                    cap(message),
                    mapping,
                    ",".join(entities),
                    *counts,
                    time.time(),
                    file_id,
                ),
            )
            db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))

    def recent_files(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, name, status, entities, rows_sent, rows_skipped, rows_failed, message, "
            "report_path, archive_path, finished_at, errors_path FROM files "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        keys = (
            "id",
            "name",
            "status",
            "entities",
            "rows_sent",
            "rows_skipped",
            "rows_failed",
            "message",
            "report_path",
            "archive_path",
            "finished_at",
            "errors_path",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def resolved_by(self, file_id: int) -> tuple[str, float | None] | None:
        """The later file that imported cleanly (done, no failed row) what this file failed to:
        a file of the same name, or its errors file fixed and dropped back, directly or through
        errors files that failed in part again. (its name, when it finished), or None.
        """
        frontier, seen = [file_id], {file_id}
        while frontier:
            current = frontier.pop(0)
            row = self.db.execute(
                "SELECT name, errors_path FROM files WHERE id = ?", (current,)
            ).fetchone()
            if row is None:
                continue
            names = {row[0], *(Path(p).name for p in (row[1] or "").splitlines() if p)}
            later = self.db.execute(
                "SELECT id, name, status, rows_failed, finished_at FROM files WHERE id > ? AND "
                f"status IN ('done', 'failed') AND name IN ({','.join('?' * len(names))}) "
                "ORDER BY id",
                (current, *names),
            ).fetchall()
            for _, name, status, failed, finished in later:
                if status == "done" and not failed:
                    return name, finished
            for fid, *_ in later:
                if fid not in seen:
                    seen.add(fid)
                    frontier.append(fid)
        return None

    # -- chunks (resume without re-sending what Centra acknowledged) -------------------------

    def chunk_outcomes(self, file_id: int, target: str) -> dict[int, list[list[str]]]:
        rows = self.db.execute(
            "SELECT chunk, outcomes FROM chunks WHERE file_id = ? AND target = ?",
            (file_id, target),
        ).fetchall()
        return {int(chunk): json.loads(outcomes) for chunk, outcomes in rows}

    def record_chunk(
        self, file_id: int, target: str, chunk: int, outcomes: list[tuple[str, str]]
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO chunks (file_id, target, chunk, status, outcomes, "
                "finished_at) VALUES (?, ?, ?, 'done', ?, ?)",
                (file_id, target, chunk, json.dumps(outcomes), time.time()),
            )

    # -- sightings (the settle window) ---------------------------------------------------

    def sighting(self, name: str, size: int, mtime_ns: int, now: float) -> float:
        """When this name was first seen with this size and mtime (now, if it just changed)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT size, mtime_ns, first_seen FROM sightings WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and row[0] == size and row[1] == mtime_ns:
                return float(row[2])
            db.execute(
                "INSERT OR REPLACE INTO sightings (name, size, mtime_ns, first_seen) "
                "VALUES (?, ?, ?, ?)",
                (name, size, mtime_ns, now),
            )
            return now

    def forget_sighting(self, name: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM sightings WHERE name = ?", (name,))

    # -- catalogue index --------------------------------------------------------------------

    def index_catalogue(self, rows: Iterable[tuple[str | None, str | None, str, str, str]]) -> None:
        """Remember (ean, full sku, product, variation, size) of sizes sent to Centra."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO catalogue (ean, sku, product, variation, size) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (product, variation, size) DO UPDATE SET "
                "ean = coalesce(excluded.ean, ean), sku = coalesce(excluded.sku, sku)",
                rows,
            )

    def index_sizetables(self, rows: Iterable[tuple[str, str]]) -> None:
        """Remember (sizetable, size) pairs Centra accepted."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO sizetables (sizetable, size) VALUES (?, ?)", rows)

    def sizes_of(self, sizetable: str) -> list[str] | None:
        rows = self.db.execute(
            "SELECT size FROM sizetables WHERE sizetable = ? ORDER BY rowid", (sizetable,)
        ).fetchall()
        return [r[0] for r in rows] or None

    def lookup_ean(self, ean: str) -> tuple[str, str, str] | None:
        row = self.db.execute(
            "SELECT product, variation, size FROM catalogue WHERE ean = ? LIMIT 1", (ean,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def lookup_sku(self, sku: str) -> tuple[str, str, str] | None:
        row = self.db.execute(
            "SELECT product, variation, size FROM catalogue WHERE sku = ? LIMIT 1", (sku,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    # -- counters -------------------------------------------------------------------------

    def next_counter(self, name: str) -> int:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return int(self._one("SELECT value FROM counters WHERE name = ?", (name,)))


def _summary_text(summary: dict[str, Any]) -> str:
    """A run's summary as JSON, within MAX_SUMMARY characters (files beyond that are counted)."""
    text = json.dumps(summary)
    files = summary.get("files")
    if len(text) <= MAX_SUMMARY or not isinstance(files, list):
        return text
    kept = dict(summary)
    while files and len(text) > MAX_SUMMARY:
        files = files[: len(files) // 2]
        kept["files"] = files
        kept["files_left_out"] = len(summary["files"]) - len(files)
        text = json.dumps(kept)
    return text


def json_value(text: str | None) -> Any:
    """A JSON column's value, or None when it is empty or not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
