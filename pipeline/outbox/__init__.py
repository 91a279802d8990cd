"""Centra -> ERP: the event queue into outbox CSV files, each order change exactly once.

Modules: ``pull`` (the use case: :func:`pull_events`), ``export_mapping`` (YAML export
mappings, compiled), ``values`` (cell formats, the formula guard), ``csvfile`` (CSV bytes and
the temp/rename/marker steps), ``ledger`` (the journal's outbox tables and write-ahead
intents), and the crash points of :mod:`pipeline.testhooks` (test-only).
"""

from __future__ import annotations

from pipeline.outbox.pull import PullSummary, pull_events

__all__ = ["PullSummary", "pull_events"]
