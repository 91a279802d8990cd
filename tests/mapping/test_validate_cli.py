"""`centra-pipeline validate`: exit codes, messages, --xml-out; no network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import pipeline.cli.validate  # noqa: F401  (registers the command)
from pipeline.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "erp"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    return tmp_path


def invoke(workspace: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["--workspace", str(workspace), "validate", *args], env=env)


def test_valid_files_exit_0_and_write_the_xml(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "xml"
    result = invoke(
        workspace,
        str(SAMPLES / "articles.csv"),
        str(SAMPLES / "stock-by-ean.xlsx"),
        "--xml-out",
        str(out),
        env={"CENTRA_USERNAME": "erp-user", "CENTRA_PASSWORD": "s3cret"},
    )
    assert result.exit_code == 0, result.output
    assert (
        "articles.csv (mapping articles.yaml): 9 rows -> 4 products, 2 pricelists, 3 stock: OK"
        in result.output
    )
    # the stock file is keyed by EAN and resolves through the article file of the same call
    assert (
        "stock-by-ean.xlsx [Stock] (mapping stock-by-ean.yaml): 3 rows -> 1 stock: OK"
        in result.output
    )
    names = sorted(p.name for p in out.iterdir())
    assert "articles.001.products.products_Update.xml" in names
    xml = (out / "articles.001.products.products_Update.xml").read_text()
    assert "<username>erp-user</username><password>***</password>" in xml
    assert "s3cret" not in "".join(p.read_text() for p in out.iterdir())


def test_row_problems_exit_1_with_file_row_column_value(workspace: Path, tmp_path: Path) -> None:
    bad = tmp_path / "markets-bad.csv"
    bad.write_text("Market,Store,Channel,Name\nRetail-Global,one,B2C,Global\nX,2,B2B,Y\n")
    result = invoke(workspace, str(bad))
    assert result.exit_code == 1
    assert (
        "markets-bad.csv, row 2, column 'Store': is not a whole number (value 'one')"
        in result.output
    )
    assert "1 problem(s) found." in result.output


def test_a_control_character_is_a_row_problem_not_a_crash(workspace: Path, tmp_path: Path) -> None:
    bad = tmp_path / "markets.csv"
    bad.write_text("Market,Store,Channel,Name\nRetail-Global,1,B2C,Glo\x01bal\nX,2,B2B,Y\n")
    result = invoke(workspace, str(bad), "--xml-out", str(tmp_path / "xml"))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "markets.csv, row 2, column 'Name': contains the control character U+0001" in (
        result.output
    )
    written = "".join(p.read_text() for p in (tmp_path / "xml").iterdir())
    assert "<id>X</id>" in written and "Glo" not in written  # the good row is still written


def test_file_problems_exit_1(workspace: Path, tmp_path: Path) -> None:
    unknown = tmp_path / "whatever.csv"
    unknown.write_text("A\n1\n")
    missing = tmp_path / "markets-2.csv"
    missing.write_text("Market,Store,Name\nX,1,Y\n")
    result = invoke(workspace, str(unknown), str(missing))
    assert result.exit_code == 1
    assert "whatever.csv: no mapping matches this file name" in result.output
    assert "markets-2.csv, line 1: the header row has no column 'Channel'" in result.output


def test_bad_mapping_exits_2_and_lists_every_problem(workspace: Path) -> None:
    (workspace / "mappings" / "broken.yaml").write_text(
        "match: x.csv\ntargets:\n  - entity: markets\n    fields:\n      market.idd: A\n"
        "  - entity: produkts\n    fields: {product.id: A}\n"
    )
    result = invoke(workspace, str(SAMPLES / "markets.csv"))
    assert result.exit_code == 2
    assert (
        'mappings/broken.yaml: targets[0].fields["market.idd"]: unknown field path' in result.output
    )
    assert "mappings/broken.yaml: targets[1].entity: unknown entity 'produkts'" in result.output


def test_explicit_mapping_and_json(workspace: Path, tmp_path: Path) -> None:
    data = tmp_path / "anything.txt"
    data.write_text("Warehouse;Name\nW1;One\n")
    result = CliRunner().invoke(
        cli,
        ["--workspace", str(workspace), "--json", "validate", str(data), "--mapping",
         str(workspace / "mappings" / "warehouses.yaml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["exit_code"] == 0
    assert report["files"][0]["objects"] == {"warehouses": 1}


def test_validate_has_help() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0 and "--xml-out" in result.output


def test_an_xml_out_that_cannot_be_made_is_a_clear_error(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "xml"  # (a file itself is refused by click already)
    result = invoke(workspace, str(SAMPLES / "articles.csv"), "--xml-out", str(out))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert f"Error: cannot write the request XML to {out}: Not a directory" in result.output
    assert "give --xml-out a folder that can be written to" in result.output


def test_a_request_file_that_cannot_be_written_stops_validate(
    workspace: Path, tmp_path: Path
) -> None:
    out = tmp_path / "xml"
    out.mkdir()
    (out / "articles.002.pricelists.pricelists_Update.xml").mkdir()  # a folder in the way
    result = invoke(workspace, str(SAMPLES / "articles.csv"), "--xml-out", str(out))
    assert result.exit_code == 2, result.output
    assert "articles.002.pricelists.pricelists_Update.xml" in result.output
    written = sorted(p.name for p in out.iterdir() if p.is_file())
    assert written == ["articles.001.products.products_Update.xml"]  # nothing after it
