"""Hostile inbox files: each gives a clear error and no side effect."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl

from tests.batch.helpers import operations, report_rows
from tests.conftest import FIXTURES, Workspace, make_workspace

MARKETS = (FIXTURES / "erp" / "markets.csv").read_bytes()


def _updates(sandbox: Any) -> int:
    return sum(op.endswith("_Update") for op in operations(sandbox))


def test_odd_file_names_are_handled_inside_the_workspace(
    workspace: Workspace, sandbox: Any
) -> None:
    names = [
        "markets..csv",
        "markets-" + "x" * 200 + ".csv",
        "markets-ｓｅ.csv",  # full-width look-alikes
        "markets-\u0430\u0435.csv",  # Cyrillic a and e
        "markets\nnewline.csv",
    ]
    for n, name in enumerate(names):
        content = MARKETS.replace(b"Global", f"Global{n}".encode())
        (workspace.inbox / name).write_bytes(content)
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert sorted(f["name"] for f in out["files"]) == sorted(names)
    for f in out["files"]:
        archived = Path(f["archived"]).resolve()
        assert archived.is_relative_to(workspace.archive.resolve())
        assert archived.name == f["name"]
        assert Path(f["report"]).exists()


def test_a_symlink_in_the_inbox_is_not_followed(
    workspace: Workspace, tmp_path: Path, sandbox: Any
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(MARKETS)
    (workspace.inbox / "markets.csv").symlink_to(outside)
    code, out = workspace.cli_json("run")
    assert code == 0
    (entry,) = out["files"]
    assert entry["status"] == "refused" and "symbolic link" in entry["message"]
    assert _updates(sandbox) == 0
    assert outside.read_bytes() == MARKETS
    assert (workspace.inbox / "markets.csv").is_symlink()


def test_a_file_above_the_size_limit_is_refused_without_reading_it(
    tmp_path: Path, sandbox: Any
) -> None:
    ws = make_workspace(tmp_path / "ws", sandbox.url, "")
    (ws.root / "pipeline.yaml").write_text(
        (ws.root / "pipeline.yaml")
        .read_text()
        .replace("settle_seconds: 0", "settle_seconds: 0\n  max_file_mb: 1")
    )
    big = ws.inbox / "markets-big.csv"
    with big.open("wb") as fh:
        fh.write(MARKETS)
        fh.write(b"Retail-X,1,B2C,Filler\n" * 60_000)  # about 1.3 MB
    code, out = ws.cli_json("run")
    assert code == 1
    (entry,) = out["files"]
    assert entry["status"] == "failed"
    assert "larger than inbox.max_file_mb (1 MB)" in entry["message"]
    assert Path(entry["report"]).name == "markets-big.csv.error.txt"
    assert "What to do:" in Path(entry["report"]).read_text()
    assert Path(entry["archived"]).parent.name == "failed"
    assert _updates(sandbox) == 0


def test_a_csv_line_with_a_million_columns(workspace: Workspace, sandbox: Any) -> None:
    line = b",x" * 1_000_000
    (workspace.inbox / "markets.csv").write_bytes(MARKETS + b"Retail-X,1,B2C,Wide" + line + b"\n")
    code, out = workspace.cli_json("run")
    assert code == 1
    (entry,) = out["files"]
    report = Path(entry["report"])
    text = report.read_text()
    assert len(text) < 20_000, "the error is short, not a dump of the line"
    failed = [r for r in report_rows(report) if r["status"] == "failed"]
    assert [r["row"] for r in failed] == ["5"]
    assert failed[0]["message"].startswith(
        "the row has 1000004 values but the header has 4 columns; check the delimiter"
    )
    assert _updates(sandbox) <= 1


def _workbook_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Accounts"
    sheet.append(["Account"])
    sheet.append(["A-1"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_zip_bomb_is_refused(workspace: Workspace, sandbox: Any) -> None:
    source = zipfile.ZipFile(io.BytesIO(_workbook_bytes()))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                filler = b"<!-- " + b"A" * 120_000_000 + b" -->"
                data = data.replace(b"<sheetData>", filler + b"<sheetData>", 1)
            out.writestr(item, data)
    path = workspace.inbox / "accounts-bomb.xlsx"
    path.write_bytes(bomb.getvalue())
    assert path.stat().st_size < 2_000_000
    code, out = workspace.cli_json("run")
    assert code == 1, out
    (entry,) = out["files"]
    assert entry["status"] == "failed"
    assert "possible zip bomb" in entry["message"], entry["message"]
    assert entry["message"].startswith("accounts-bomb.xlsx: "), "named as the user named it"
    assert _updates(sandbox) == 0


def test_an_xlsx_with_external_links_is_not_followed(
    workspace: Workspace, sandbox: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "linked.xlsx"
    marker.write_bytes(b"never read")
    before = os.stat(marker).st_atime_ns
    source = zipfile.ZipFile(io.BytesIO(_workbook_bytes()))
    linked = io.BytesIO()
    with zipfile.ZipFile(linked, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item.filename))
        out.writestr(
            "xl/externalLinks/externalLink1.xml",
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships"/></externalLink>',
        )
        out.writestr(
            "xl/externalLinks/_rels/externalLink1.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/externalLinkPath" Target="file://{marker}" TargetMode="External"/>'
            "</Relationships>",
        )
    (workspace.inbox / "accounts-linked.xlsx").write_bytes(linked.getvalue())
    _, out = workspace.cli_json("run")
    (entry,) = out["files"]
    assert entry["status"] in ("done", "failed"), entry
    assert os.stat(marker).st_atime_ns == before
    if entry["status"] == "done":
        rows = report_rows(entry["report"])
        assert rows, "the workbook's rows are reported"


PAYLOADS = {
    "firstname": '=HYPERLINK("http://evil.example","click")',
    "lastname": "+cmd|' /C calc'!A0",
    "address1": "-2+3+cmd|' /C calc'!A0",
    "address2": "@SUM(1+1)*cmd|' /C calc'!A0",
    "city": "\t=1+1",
    "state": "\r=1+1",
    "zipcode": "=0x41",
    "telephone": "+46 8 123 45",
}


def test_formula_payloads_in_every_free_text_field_are_neutralised(
    workspace: Workspace, sandbox: Any
) -> None:
    workspace.drop("markets.csv", "sizes.csv", "warehouses.csv", "articles.csv", "prices.csv")
    assert workspace.cli("run").returncode == 0
    sandbox.place_order(
        "Retail-Sweden",
        [("SC01", "SC01_GREY", "OS", 2)],
        pricelist="EUR-Retail",
        email="=cmd@example.com",
        address={**PAYLOADS, "country": "SE"},
        other="=1+2 please call",
        ponumber="-PO-7",
    )
    assert workspace.cli("pull").returncode == 0
    import csv

    cells: list[tuple[str, str]] = []
    for path in workspace.outbox.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                cells += list(row.items())
    values = [v for _, v in cells]
    for payload in [*PAYLOADS.values(), "=cmd@example.com", "=1+2 please call"]:
        # Cells are trimmed, so a leading tab or CR goes; the formula behind it is still caught.
        assert "'" + payload.strip() in values, f"{payload!r} not neutralised"
        assert payload not in values and payload.strip() not in values
    dangerous = [(k, v) for k, v in cells if v[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == [], "no cell an ERP or spreadsheet would run as a formula"
    numbers = {k: v for k, v in cells if k in ("qty", "price", "subtotal")}
    assert numbers == {"qty": "2", "price": "49.95", "subtotal": "99.90"}, numbers
