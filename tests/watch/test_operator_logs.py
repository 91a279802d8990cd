"""What an operator reads at 3 a.m.: one line per file with its counts and first errors, a last
``<command> finished, exit N`` line, on stderr and in state/logs/pipeline.log, for ``run``,
``push``, ``pull`` and each ``watch`` cycle; ``watch`` going on past a broken mapping and an
inbox it cannot read. The real CLI against the real sandbox."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, Workspace
from tests.watch.helpers import (
    Watch,
    archived,
    configure,
    markets_csv,
    wait_for,
    without_root_powers,
)

#: Three rows: one good, two refused by the mapping; row 3's value is the Centra password,
#: which no log line may show.
MARKETS_BAD = (
    f"Market,Store,Channel,Name\r\nM1,1,B2C,One\r\nM2,{PASSWORD},B2C,Two\r\nM3,1,XX,Three\r\n"
)


def _log_file(ws: Workspace) -> str:
    return (ws.root / "state" / "logs" / "pipeline.log").read_text(encoding="utf-8")


def _lines(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def _one(text: str, needle: str) -> str:
    found = _lines(text, needle)
    assert len(found) == 1, (needle, found, text)
    return found[0]


def _no_secrets_nor_tracebacks(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text
        assert "Traceback" not in text


def test_run_logs_each_file_with_counts_first_errors_and_the_exit_code(
    workspace: Workspace,
) -> None:
    workspace.drop("markets.csv", "stock.csv")  # stock: Centra refuses both rows (no products)
    (workspace.inbox / "markets-bad.csv").write_text(MARKETS_BAD, encoding="utf-8")
    done = workspace.cli("run")
    assert done.returncode == 1, done.stdout + done.stderr
    logged = _log_file(workspace)
    for text in (done.stderr, logged):  # stderr shows warnings and errors; the file INFO too
        bad = _one(text, "pipeline.run: markets-bad.csv:")
        assert " WARNING pipeline.run: markets-bad.csv: imported with 2 failed row(s)" in bad
        assert "1 sent, 0 skipped, 2 failed" in bad
        assert "row 3 (markets " in bad  # with the row's key
        assert "column 'Store': is not a whole number (value '***')" in bad
        assert "row 4 (markets " in bad and "column 'Channel'" in bad
        assert "markets-bad.csv.result.csv" in bad
        stock = _one(text, "pipeline.run: stock.csv:")
        assert " ERROR pipeline.run: stock.csv: failed, not imported (stock)" in stock
        assert "0 sent, 0 skipped, 2 failed" in stock
        assert "row 2 (stock PWC): Centra: " in stock
        assert "centra-pipeline push " in stock and "archive/failed/stock.csv`" in stock
        last = _one(text, "run finished")
        assert last.endswith(
            " WARNING pipeline.run: run finished, exit 1: 1 file(s) failed: stock.csv; "
            "1 file(s) with failed rows: markets-bad.csv"
        )
        assert text.rstrip().endswith(last)
    assert "markets.csv:" not in done.stderr  # imported cleanly: INFO, in the file only
    assert " INFO pipeline.run: markets.csv: imported (markets): 3 sent, 0 skipped, 0 failed" in (
        _one(logged, "pipeline.run: markets.csv:")
    )
    assert _one(logged, "pipeline.run: pulled ").endswith("outbox files: none")
    _no_secrets_nor_tracebacks(done.stderr, logged, done.stdout)


def test_push_and_pull_log_their_lines_and_how_they_finished(
    workspace: Workspace, sandbox: Any, tmp_path: Path
) -> None:
    fixed = tmp_path / "markets-bad.csv"
    fixed.write_text(MARKETS_BAD, encoding="utf-8")
    pushed = workspace.cli("push", str(fixed))
    assert pushed.returncode == 1, pushed.stdout + pushed.stderr
    for text in (pushed.stderr, _log_file(workspace)):
        assert " WARNING pipeline.push: markets-bad.csv: imported with 2 failed row(s)" in text
        assert _one(text, "push finished").endswith(
            " WARNING pipeline.push: push finished, exit 1: 1 file(s) with failed rows: "
            "markets-bad.csv"
        )

    sandbox.enqueue_events(3)
    pulled = workspace.cli("-v", "pull")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    for text in (pulled.stderr, _log_file(workspace)):
        line = _one(text, "pipeline.pull: pulled ")
        assert " INFO pipeline.pull: pulled 3 event(s): 0 exported (0 row(s)), 3 skipped" in line
        assert "3 acknowledged; outbox files: none" in line
        assert _one(text, "pull finished").endswith(" INFO pipeline.pull: pull finished, exit 0")

    refused = workspace.cli("pull", CENTRA_PASSWORD="Not-the-Pa55word-42")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    for text in (refused.stderr, _log_file(workspace)):
        last = _one(text, "pull finished, exit 3")
        assert " ERROR pipeline.pull: pull finished, exit 3: " in last
        assert "refused the login" in last and "what to do: check CENTRA_USERNAME" in last
        assert "Not-the-Pa55word-42" not in text
    _no_secrets_nor_tracebacks(pushed.stderr, pulled.stderr, _log_file(workspace))


def test_a_watch_cycle_logs_each_file_once_and_how_the_cycle_finished(
    workspace: Workspace,
) -> None:
    configure(workspace, settle=0.2)
    watch = Watch(workspace, "--mode", "polling", "--rescan", "0.3")
    try:
        watch.wait_started()
        (workspace.inbox / "markets-bad.csv").write_text(MARKETS_BAD, encoding="utf-8")
        (workspace.inbox / "markets-good.csv").write_bytes(markets_csv("GOOD1", "GOOD2"))
        wait_for(lambda: "watch cycle finished, exit 1" in watch.log(), 20, "the cycle's end")
        assert watch.proc.poll() is None, watch.log()
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
    for text in (watch.log(), _log_file(workspace)):
        bad = _one(text, "pipeline.watch: markets-bad.csv:")
        said = [x for x in _lines(text, "markets-bad.csv:") if " WARNING " in x or " ERROR " in x]
        assert said == [bad]  # once: not also a line of the watcher's own
        assert " WARNING pipeline.watch: markets-bad.csv: imported with 2 failed row(s)" in bad
        assert "1 sent, 0 skipped, 2 failed" in bad
        assert "row 3 (markets " in bad and "column 'Store'" in bad and "row 4 (markets " in bad
        good = _one(text, "pipeline.watch: markets-good.csv:")
        assert " INFO pipeline.watch: markets-good.csv: imported (markets): 2 sent" in good
        assert _one(text, "watch cycle finished, exit 1").endswith(
            " WARNING pipeline.watch: watch cycle finished, exit 1: "
            "1 file(s) with failed rows: markets-bad.csv"
        )
        assert _one(text, "watch finished").endswith(" INFO pipeline.watch: watch finished, exit 0")
        # idle cycles (nothing ready, no events) say nothing
        assert "watch cycle finished, exit 0" not in text
    _no_secrets_nor_tracebacks(watch.log(), _log_file(workspace))


def test_watch_goes_on_past_a_broken_mapping(workspace: Workspace) -> None:
    configure(workspace, settle=0.2)
    (workspace.root / "mappings" / "broken.yaml").write_text(
        'match: ["broken*.csv"]\ntargets: [\n', encoding="utf-8"
    )
    (workspace.inbox / "broken-1.csv").write_text("a,b\r\n1,2\r\n", encoding="utf-8")
    workspace.drop("markets.csv")
    watch = Watch(workspace, "--mode", "polling", "--rescan", "0.3")
    try:
        watch.wait_started()
        problem = wait_for(
            lambda: _lines(watch.log(), "mappings/broken.yaml"), 10, "the mapping problem"
        )[0]
        assert " ERROR pipeline.watcher: " in problem
        assert "is not valid YAML" in problem and "watch keeps running" in problem
        wait_for(lambda: archived(workspace, "markets.csv"), 20, "the good file's import")
        time.sleep(1.5)  # five rescans: the waiting file starts no cycle of its own
        assert watch.proc.poll() is None, watch.log()
        assert archived(workspace, "broken-1.csv") == []  # not imported with a broken mapping
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
    log = watch.log()
    assert "Traceback" not in log
    assert len(_lines(log, "watch keeps running: the files a broken mapping")) == 1
    assert len(_lines(log, "pipeline.watch: broken-1.csv:")) <= 1, log
    assert len(_lines(log, "watch cycle finished")) <= 3, log


CAUSES = {
    "a file": "is a file, not a folder; what to do: move that file away",
    "no permission": "permission denied for the user",
}


@pytest.mark.parametrize("how", sorted(CAUSES))
def test_watch_on_an_inbox_it_cannot_use_says_why_pulls_and_resumes(
    workspace: Workspace, sandbox: Any, how: str
) -> None:
    configure(workspace, settle=0.1)
    prefix = without_root_powers() if how == "no permission" else []
    inbox = workspace.inbox
    if how == "a file":
        inbox.rmdir()
        inbox.write_text("not a folder\n", encoding="utf-8")
    else:
        inbox.chmod(0)
    sandbox.enqueue_events(2)
    watch = Watch(workspace, "--mode", "events", "--rescan", "0.3", prefix=prefix)
    try:
        watch.wait_started()
        said = wait_for(lambda: _lines(watch.log(), CAUSES[how]), 10, "why")[0]
        assert " ERROR pipeline.watcher: " in said and str(inbox) in said
        assert "watch keeps running" in said
        wait_for(lambda: not sandbox.events(), 10, "the events pulled meanwhile")
        time.sleep(1.0)  # a few rescans: the problem is not said again
        assert watch.proc.poll() is None, watch.log()
        if how == "a file":
            inbox.unlink()
            inbox.mkdir()
        else:
            inbox.chmod(0o755)
        (inbox / "markets-back.csv").write_bytes(markets_csv("BACK"))
        wait_for(lambda: archived(workspace, "markets-back.csv"), 15, "the import after")
        assert watch.stop() == 0, watch.log()
    finally:
        watch.kill()
        if inbox.is_dir():
            inbox.chmod(0o755)
    log = watch.log()
    assert "Traceback" not in log
    assert len(_lines(log, CAUSES[how])) == 1, log  # said once, not on every rescan
    assert "cannot watch" not in log or len(_lines(log, "cannot watch")) == 1, log
    assert "is back" in log


def test_a_log_folder_that_cannot_be_written_is_a_clean_error(workspace: Workspace) -> None:
    logs = workspace.root / "state" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "pipeline.log").mkdir()  # a folder where the log file should be
    for args in (("run",), ("pull",)):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "--workspace", str(workspace.root), *args],
            capture_output=True,
            text=True,
            env=workspace.env(),
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "cannot write the log file" in done.stderr and "What to do:" in done.stderr
        assert "Traceback" not in done.stderr


def test_each_status_has_its_level_and_long_lists_are_cut() -> None:
    from pipeline.batch.logsummary import file_line
    from pipeline.batch.run import FileResult

    clean = FileResult("a.csv", "done", ["markets"], 3, report="r.csv")
    assert file_line(clean) == (
        logging.INFO,
        "a.csv: imported (markets): 3 sent, 0 skipped, 0 failed; report r.csv",
    )
    skipped = FileResult("b.csv", "done", ["stock"], 3, 2)
    assert file_line(skipped)[0] == logging.WARNING
    assert "b.csv: imported with 2 skipped row(s) (stock)" in file_line(skipped)[1]
    errors = [f"row {n} (stock X{n}): {'why ' * 200}" for n in (2, 3, 4)]
    many = FileResult("c.csv", "done", ["stock"], 1, 0, 7, errors=errors)
    level, text = file_line(many)
    assert level == logging.WARNING and "first 3 of 7 errors: row 2 (stock X2): why" in text
    assert len(text) < 1200  # each error cut to a few hundred characters
    failed = FileResult("d.csv", "failed", message="the file is larger than 1 MB")
    level, text = file_line(failed)
    assert level == logging.ERROR and "the file is larger than 1 MB" in text
    assert "push" not in text  # not archived: nothing to push, its message says what next
    archived_copy = FileResult("d.csv", "failed", archived="archive/failed/d.csv")
    assert file_line(archived_copy)[1].endswith("`centra-pipeline push archive/failed/d.csv`")
    unmatched = FileResult("e.csv", "unmatched", message="no mapping matches this name")
    assert file_line(unmatched)[0] == logging.WARNING
