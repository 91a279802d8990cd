"""The errors file beside a report (issue #16, item 4): the original rows that were not sent,
as the ERP wrote them, plus a status and a message; fixed and dropped back into the inbox, it
imports cleanly and ``status`` shows the first failure resolved. The report echoes each row's
key cells, so the six rows of one product are told apart.

Every test runs the real CLI against the real sandbox over HTTP, with real files.
"""

from __future__ import annotations

import codecs
import csv
import io
import signal
import sqlite3
from pathlib import Path
from typing import Any

from pipeline.state.journal import Journal
from tests.batch.helpers import articles_csv, export_tree, report_rows, texts
from tests.conftest import Workspace

BAD_EAN = "12345X7890124"


def _article_rows() -> list[dict[str, str]]:
    """Six rows of one product (two variants, three sizes; umlauts and decimal commas), the
    fourth row's EAN broken, then a clean product."""
    rows = []
    for variant, colour, prefix in (("T001_RED", "Rot", "1"), ("T001_BLUE", "Blau", "2")):
        for number, size in enumerate(("S", "M", "L"), start=3):
            rows.append(
                {
                    "Article": "T001",
                    "Status": "active",
                    "Name": "Rollkragenpullover Größe",
                    "Variant": variant,
                    "Variant name": colour,
                    "Variant status": "active",
                    "Size table": "SML",
                    "Size": size,
                    "EAN": f"{prefix}23456789012{number}",
                    "EUR retail": "123,50",
                    "Stock main": "5",
                }
            )
    rows[3]["EAN"] = BAD_EAN  # T001_BLUE, size S: file row 5
    rows.append(dict(rows[0], Article="P2", Variant="P2_V", Size="S", EAN="3234567890123"))
    return rows


def _setup(ws: Workspace) -> None:
    """Markets and sizes first, so that only the articles file is under test."""
    ws.drop("markets.csv", "sizes.csv")
    assert ws.cli("run").returncode == 0


def _import_bad_articles(ws: Workspace) -> tuple[bytes, dict[str, Any]]:
    source = articles_csv(_article_rows())
    (ws.inbox / "articles.csv").write_bytes(source)
    code, out = ws.cli_json("run")
    assert code == 1, out
    (entry,) = out["files"]
    assert entry["status"] == "done" and entry["rows_failed"] == 1, entry
    return source, entry


def test_errors_file_holds_the_rows_not_sent_as_the_erp_wrote_them(workspace: Workspace) -> None:
    _setup(workspace)
    source, entry = _import_bad_articles(workspace)

    errors = workspace.archive.glob("*/articles.csv.errors.csv")
    (path,) = errors
    assert entry["errors_files"] == [str(path)]
    assert Path(entry["report"]).parent == path.parent, "beside the report"
    data = path.read_bytes()
    assert not data.startswith(codecs.BOM_UTF8)
    assert "Größe".encode("cp1252") in data, "in the source's encoding"
    lines = source.split(b"\r\n")
    written = data.split(b"\r\n")
    assert written[-1] == b"" and b"\n" not in data.replace(b"\r\n", b""), "the file's line ends"
    # The header as it was, plus two columns whose names the file does not have ("Status").
    assert written[0] == lines[0] + b";_status;_message"
    # Exactly the six rows of T001, in file order, each byte for byte as the ERP wrote it.
    assert len(written) - 2 == 6
    for original, line in zip(lines[1:7], written[1:7], strict=True):
        status = b"failed" if BAD_EAN.encode() in original else b"skipped"
        assert line.startswith(original + b";" + status + b";"), line
    table = list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";"))
    by_status = {row[-2]: row[-1] for row in table[1:]}
    assert set(by_status) == {"failed", "skipped"}
    assert "EAN" in by_status["failed"] and BAD_EAN in by_status["failed"]
    assert "row 5" in by_status["skipped"]
    # Clean files get none.
    assert not list(workspace.archive.rglob("markets.csv.errors*"))
    assert not list(workspace.archive.rglob("sizes.csv.errors*"))


def test_report_echoes_the_key_cells_that_tell_the_rows_apart(workspace: Workspace) -> None:
    _setup(workspace)
    _, entry = _import_bad_articles(workspace)

    rows = report_rows(entry["report"])
    assert list(rows[0])[:5] == ["row", "target", "key", "status", "message"]
    assert list(rows[0])[-1] == "source"
    t001 = {r["row"]: r["source"] for r in rows if r["row"] in {"2", "3", "4", "5", "6", "7"}}
    assert len(set(t001.values())) == 6, t001
    assert t001["5"] == "Article=T001, Variant=T001_BLUE, Size=S"
    p2 = [r for r in rows if r["row"] == "8"]
    assert {r["source"] for r in p2} == {"Article=P2, Variant=P2_V, Size=S"}


def test_fixed_errors_file_dropped_back_imports_cleanly_and_resolves_the_failure(
    workspace: Workspace, sandbox: Any
) -> None:
    _setup(workspace)
    _import_bad_articles(workspace)
    (path,) = workspace.archive.glob("*/articles.csv.errors.csv")
    fixed = path.read_bytes().replace(BAD_EAN.encode(), b"2234567890123")
    (workspace.inbox / path.name).write_bytes(fixed)  # as a person drops it back

    code, out = workspace.cli_json("run")
    assert code == 0, out
    (entry,) = out["files"]
    assert (entry["name"], entry["status"]) == ("articles.csv.errors.csv", "done")
    assert (entry["rows_sent"], entry["rows_failed"], entry["rows_skipped"]) == (6, 0, 0)
    assert entry["errors_files"] == []
    sizes = texts(export_tree(sandbox, "products"), "//product[id='T001']//size/id/text()")
    assert sorted(sizes) == ["L", "L", "M", "M", "S", "S"]

    code, status = workspace.cli_json("status")
    assert code == 0
    first = next(f for f in status["files"] if f["name"] == "articles.csv")
    assert first["resolved_by"] == "articles.csv.errors.csv" and first["resolved_at"]
    assert [str(path)] == first["errors_files"]
    shown = workspace.cli("status").stdout
    assert "with failures: 0, resolved: 1" in shown
    assert "articles.csv: 1 failed row(s) (resolved by articles.csv.errors.csv, " in shown


def test_an_errors_file_dropped_back_unfixed_keeps_its_columns(workspace: Workspace) -> None:
    """Its status and message are replaced, not stacked; its errors file is the next one, and
    fixing that one resolves the first file too."""
    _setup(workspace)
    _import_bad_articles(workspace)
    (first,) = workspace.archive.glob("*/articles.csv.errors.csv")
    (workspace.inbox / first.name).write_bytes(first.read_bytes())

    code, out = workspace.cli_json("run")
    assert code == 1, out
    (again,) = [Path(p) for p in out["files"][0]["errors_files"]]
    assert again.read_bytes() == first.read_bytes()
    assert again != first and first.exists(), "nothing in the archive is overwritten"

    (workspace.inbox / again.name).write_bytes(
        again.read_bytes().replace(BAD_EAN.encode(), b"2234567890123")
    )
    code, out = workspace.cli_json("run")
    assert code == 0, out
    code, status = workspace.cli_json("status")
    resolved = {f["name"]: f["resolved_by"] for f in status["files"] if f["resolved_by"]}
    assert resolved == {"articles.csv": again.name, "articles.csv.errors.csv": again.name}


def test_the_lines_around_the_header_are_kept_so_that_the_mapping_reads_it_again(
    workspace: Workspace, sandbox: Any
) -> None:
    """A title line above the header (read.header_row) and a units row after it
    (read.skip_rows) stay, so the errors file dropped back is read as the first was; a UTF-8
    file with a BOM and LF line ends keeps them; status and message are those names here."""
    mapping = (workspace.root / "mappings" / "markets.yaml").read_text(encoding="utf-8")
    (workspace.root / "mappings" / "markets.yaml").write_text(
        mapping.replace("header_row: 1 ", "header_row: 2\n  skip_rows: 1 "), encoding="utf-8"
    )
    source = (
        "Märkte, Export vom 5.12.2026\n"
        "Market,Store,Channel,Name\n"
        "(id),(1 or 2),(B2C/B2B),(text)\n"
        "M1,1,B2C,Köln\n"
        'M2,x,B2C,"Berlin, Mitte"\n'
    ).encode("utf-8-sig")
    (workspace.inbox / "markets.csv").write_bytes(source)
    code, out = workspace.cli_json("run")
    assert code == 1, out
    (path,) = [Path(p) for p in out["files"][0]["errors_files"]]
    data = path.read_bytes()
    lines = source.split(b"\n")
    assert data.split(b"\n")[:3] == [lines[0], lines[1] + b",status,message", lines[2]]
    assert data.split(b"\n")[3].startswith(lines[4] + b",failed,")
    assert len(data.split(b"\n")) == 5

    (workspace.inbox / path.name).write_bytes(data.replace(b"M2,x,", b"M2,2,"))
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert out["files"][0]["rows_sent"] == 1
    assert "M2" in texts(export_tree(sandbox, "markets"), "//market/id/text()")


def test_a_workbook_gets_a_csv_of_its_sheets_rows(workspace: Workspace) -> None:
    """The pipeline writes no workbooks: the sheet's rows become a UTF-8 CSV Excel opens."""
    workspace.drop("stock-by-ean.xlsx")  # no article sent: every EAN is unknown
    code, out = workspace.cli_json("run")
    assert code == 1, out
    (entry,) = out["files"]
    assert entry["status"] == "failed"
    (path,) = [Path(p) for p in entry["errors_files"]]
    assert path.name == "stock-by-ean.xlsx.errors.csv" and path.parent.name == "failed"
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0][-2:] == ["status", "message"] and "EAN" in table[0]
    assert len(table) - 1 == entry["rows_failed"] > 0
    assert all(row[-2] == "failed" and "catalogue" in row[-1] for row in table[1:])


def test_a_run_killed_while_writing_the_errors_file_is_finished(workspace: Workspace) -> None:
    _setup(workspace)
    (workspace.inbox / "articles.csv").write_bytes(articles_csv(_article_rows()))
    killed = workspace.cli("run", CENTRA_PIPELINE_CRASH_AT="during_errors_file")
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    code, out = workspace.cli_json("run")
    assert code == 1, out
    (entry,) = out["files"]
    assert entry["name"] == "articles.csv" and entry["rows_failed"] == 1
    names = sorted(p.name for p in workspace.archive.rglob("articles*"))
    assert names == ["articles.csv", "articles.csv.errors.csv", "articles.csv.result.csv"]
    assert [p for p in workspace.root.rglob("*.tmp")] == []
    errors = (workspace.archive / Path(entry["archived"]).parent.name / names[1]).read_bytes()
    assert len(errors.split(b"\r\n")) - 2 == 6


def test_an_older_journal_gets_the_errors_column(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE files DROP COLUMN errors_path")
    with Journal.open(path) as journal:
        columns = {row[1] for row in journal.db.execute("PRAGMA table_info(files)")}
        assert "errors_path" in columns
        assert journal.recent_files() == []
