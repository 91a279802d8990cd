"""Logs: one line per event off a terminal, a rotating file under state/logs/, no password."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.logs import LOG_NAME, OneLineFormatter, log_to_file, setup_logging
from pipeline.secrets import REDACTOR


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_off_a_terminal_each_event_is_one_line() -> None:
    code = (
        "import logging; from pipeline.logs import setup_logging; setup_logging(1)\n"
        "log = logging.getLogger('pipeline.x')\n"
        "log.info('first\\nsecond line')\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('it broke')\n"
        "log.debug('not shown at -v')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("INFO pipeline.x: first | second line")
    assert " ERROR pipeline.x: it broke | Traceback (most recent call last): | " in lines[1]
    assert lines[1].endswith("ZeroDivisionError: division by zero")


def test_the_log_file_rotates_keeps_info_and_hides_the_password(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    setup_logging(0)  # the terminal shows warnings only; the file keeps INFO
    REDACTOR.add("Pa55-in-a-log-line")
    path = log_to_file(tmp_path / "state", max_bytes=2000, backups=2)
    assert path == tmp_path / "state" / "logs" / LOG_NAME
    log = logging.getLogger("pipeline.test")
    for n in range(100):
        log.info("event %03d %s", n, "x" * 40)
    log.info("sent with password Pa55-in-a-log-line")
    for handler in clean_root.handlers:
        handler.flush()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == [LOG_NAME, f"{LOG_NAME}.1", f"{LOG_NAME}.2"]
    text = "".join(p.read_text() for p in path.parent.iterdir())
    assert "Pa55-in-a-log-line" not in text
    assert "event 099" in text
    assert path.read_text().rstrip().endswith("INFO pipeline.test: sent with password ***")
    assert all(p.stat().st_size <= 2100 for p in path.parent.iterdir())


def test_a_log_file_rotated_by_another_process_is_reopened(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    path = log_to_file(tmp_path / "state")
    log = logging.getLogger("pipeline.test")
    log.warning("before")
    path.rename(path.with_name("rotated-by-someone-else"))
    log.warning("after")
    for handler in clean_root.handlers:
        handler.flush()
    assert "after" in path.read_text()
    assert "after" not in path.with_name("rotated-by-someone-else").read_text()


def test_one_line_formatter_folds_multiline_messages() -> None:
    record = logging.LogRecord("pipeline", logging.ERROR, __file__, 1, "a\n\nb\r\nc", None, None)
    assert OneLineFormatter().format(record).endswith("ERROR pipeline: a | b | c")
