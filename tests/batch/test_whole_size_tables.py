"""A size table is never cut in two between requests (#16): Centra cannot change a size table
once created, so a table whose sizes went in two requests would keep only the first part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.batch.sender import _split_point
from pipeline.mapping.batches import cut_whole, frozen_group
from pipeline.mapping.engine import MappedObject
from tests.batch.helpers import export_tree, texts
from tests.conftest import make_workspace


def _size(table: str, size: str) -> MappedObject:
    item = {"id": size, "sizetable": {"id": table}}
    return MappedObject("sizes", "sizes_Update", f"{table}/{size}", item, [1], [])


def test_chunks_hold_each_size_table_whole() -> None:
    sizes = [_size(f"T{t}", s) for t in range(1, 5) for s in ("S", "M", "L")]
    chunks = cut_whole(sizes, 4, frozen_group)
    assert [[o.key for o in c] for c in chunks] == [
        ["T1/S", "T1/M", "T1/L"],
        ["T2/S", "T2/M", "T2/L"],
        ["T3/S", "T3/M", "T3/L"],
        ["T4/S", "T4/M", "T4/L"],
    ]
    # a table larger than a chunk is one chunk of its own; interleaved rows are gathered
    big = [_size("A", str(n)) for n in range(5)] + [_size("B", "1"), _size("A", "5")]
    assert [len(c) for c in cut_whole(big, 4, frozen_group)] == [6, 1]
    assert [[o.key for o in c] for c in cut_whole(sizes[:5], 2)] == [
        ["T1/S", "T1/M"],
        ["T1/L", "T2/S"],
        ["T2/M"],
    ]


def test_a_refused_chunk_is_halved_between_size_tables_only() -> None:
    assert _split_point(["A", "A", "A", "B", "B", "B"]) == 3
    assert _split_point(["A", "A", "B", "B", "B", "B", "B"]) == 2
    assert _split_point(["A", "A", "A"]) is None, "one table fails whole, never halved"
    assert _split_point([None]) is None
    assert _split_point([None, None, None]) == 1


def _sizes_file(tables: int) -> bytes:
    lines = ["Size table;Size table name;Size;Size name"]
    lines += [f"T{t};Table {t};{s};{s}" for t in range(1, tables + 1) for s in ("S", "M", "L")]
    return ("\n".join(lines) + "\n").encode()


def test_run_sends_every_size_table_whole(tmp_path: Path, sandbox: Any) -> None:
    ws = make_workspace(tmp_path / "ws", sandbox.url, "batch:\n  per_entity: {sizes: 4}\n")
    (ws.inbox / "sizes.csv").write_bytes(_sizes_file(5))
    code, out = ws.cli_json("run")
    assert code == 0, out
    assert out["files"][0]["rows_failed"] == 0
    state = export_tree(sandbox, "sizes")
    for t in range(1, 6):
        assert texts(state, f"//size[sizetable/id='T{t}']/id/text()") == ["S", "M", "L"], t
