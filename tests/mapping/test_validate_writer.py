"""validate --xml-out writes its request files on a thread of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.mapping.validate import _file_writer


def test_every_file_is_written_when_the_block_ends(tmp_path: Path) -> None:
    with _file_writer(ahead=2) as write:
        for n in range(50):
            write(tmp_path / f"{n:03d}.xml", f"<r>{n}</r>".encode())
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{n:03d}.xml" for n in range(50)]
    assert all(
        (tmp_path / f"{n:03d}.xml").read_bytes() == f"<r>{n}</r>".encode() for n in range(50)
    )


def test_a_failed_write_is_raised(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # a folder where a file should go
    with pytest.raises(IsADirectoryError), _file_writer() as write:
        write(tmp_path / "a.xml", b"<a/>")
        write(tmp_path / "taken", b"<b/>")
    assert (tmp_path / "a.xml").read_bytes() == b"<a/>"


def test_the_callers_error_wins_over_pending_writes(tmp_path: Path) -> None:
    with pytest.raises(KeyError), _file_writer() as write:
        write(tmp_path / "missing-folder" / "a.xml", b"<a/>")
        raise KeyError("from the caller")


def test_nothing_more_is_written_after_a_failed_write(tmp_path: Path) -> None:
    (tmp_path / "002.xml").mkdir()  # a folder where a file should go
    with pytest.raises(IsADirectoryError), _file_writer(ahead=16) as write:
        for n in range(1, 8):
            write(tmp_path / f"{n:03d}.xml", b"<r/>")
    written = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert written == ["001.xml"]
