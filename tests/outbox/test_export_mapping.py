"""Export mappings and the CSV writer: exact bytes for the options, formats, every problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from pipeline.centra.client import CentraClient
from pipeline.errors import MappingError
from pipeline.outbox import pull_events
from pipeline.outbox.export_mapping import load_export_mappings
from pipeline.outbox.values import iso_datetime, make_format, neutralise
from pipeline.state.journal import Journal
from tests.outbox.conftest import DTC, FakeQueue, guide_event, settings_for

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)

SMALL = {
    "export": "lines",
    "event_type": "order",
    "file_prefix": "lines",
    "rows": "products/product/sizes/size",
    "csv": {
        "delimiter": ";",
        "encoding": "cp1252",
        "bom": False,
        "line_ending": "lf",
        "done_marker": True,
    },
    "columns": [
        {"name": "order", "path": "/order/id"},
        {"name": "change", "value": "change"},
        {"name": "created", "path": "/order/created", "format": "date"},
        {"name": "item", "path": "orderitem/id"},
        {"name": "name", "path": "../../description"},
        {"name": "price", "path": "../../price", "format": "decimal", "decimal_separator": ","},
        {"name": "qty", "path": "qty", "format": "integer"},
        {"name": "stock", "path": "warehouseitems/warehouse", "join": "|", "item": "{id}={qty}"},
        {"name": "unknown", "path": "no/such/element"},
        {"name": "source", "constant": "centra"},
    ],
}


def write_mappings(ws: Path, *docs: dict[str, object]) -> None:
    folder = ws / "mappings" / "export"
    for old in folder.glob("*.yaml"):
        old.unlink()
    for doc in docs:
        (folder / f"{doc.get('export', 'x')}.yaml").write_text(yaml.safe_dump(doc), "utf-8")


def test_exact_bytes_with_options_and_done_marker(
    ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal
) -> None:
    write_mappings(ws, SMALL)
    event = guide_event(DTC).replace("Plain wood chair", "Stol; släta")
    queue.add(event)
    pull_events(settings_for(ws), client, journal, now=NOW)
    name = "lines-20261127T020000Z-0001.csv"
    assert sorted(p.name for p in (ws / "outbox").iterdir()) == [name, name + ".done"]
    assert (ws / "outbox" / name).read_bytes() == (
        "order;change;created;item;name;price;qty;stock;unknown;source\n"
        '30;new;2019-03-27;80;"Stol; släta";1000,00;1;OtherWarehouse=1;;centra\n'
        "30;new;2019-03-27;81;Turtleneck sweater;123,00;1;MainWarehouse=1;;centra\n"
    ).encode("cp1252")
    assert (ws / "outbox" / (name + ".done")).read_bytes() == b""


def test_bom_and_crlf(ws: Path, queue: FakeQueue, client: CentraClient, journal: Journal) -> None:
    doc = {
        "export": "ids", "event_type": "order",
        "csv": {"bom": True, "header": False},
        "columns": [{"name": "id", "path": "id"}, {"name": "note", "constant": "a\nb"}],
    }  # fmt: skip
    write_mappings(ws, doc)
    queue.add(guide_event(DTC))
    pull_events(settings_for(ws), client, journal, now=NOW)
    data = (ws / "outbox" / "ids-20261127T020000Z-0001.csv").read_bytes()
    assert data == b'\xef\xbb\xbf30,"a\nb"\r\n'


def test_every_problem_is_reported_at_once_with_its_path(tmp_path: Path) -> None:
    bad = {
        "export": "orders",
        "event_type": "ordre",
        "file_prefix": "orders/x",
        "rows": "products/[",
        "csv": {"delimiter": ";;", "encoding": "klingon", "bom": "maybe", "colour": 1},
        "columns": [
            {"name": "a", "path": "id", "format": "decmal"},
            {"name": "b", "value": "nonsense"},
            {"name": "c"},
            {"name": "a", "constant": "x"},
            {"name": "d", "path": "x", "item": "{id}"},
        ],
        "colums": [],
    }
    (tmp_path / "orders.yaml").write_text(yaml.safe_dump(bad), "utf-8")
    (tmp_path / "broken.yaml").write_text("columns: [", "utf-8")
    with pytest.raises(MappingError) as info:
        load_export_mappings(tmp_path)
    paths = [p for p, _ in info.value.problems]
    assert paths == [
        "broken.yaml",
        "orders.yaml: colums",
        "orders.yaml: event_type",
        "orders.yaml: file_prefix",
        "orders.yaml: rows",
        "orders.yaml: csv.colour",
        "orders.yaml: csv.delimiter",
        "orders.yaml: csv.encoding",
        "orders.yaml: csv.bom",
        "orders.yaml: columns[0].format",
        "orders.yaml: columns[1].value",
        "orders.yaml: columns[2]",
        "orders.yaml: columns[3].name",
        "orders.yaml: columns[4].item",
    ]
    messages = dict(info.value.problems)
    assert "did you mean 'order'" in messages["orders.yaml: event_type"]
    assert "did you mean 'columns'" in messages["orders.yaml: colums"]
    assert "did you mean 'decimal'" in messages["orders.yaml: columns[0].format"]


def test_no_export_mappings_is_a_mapping_error_not_a_silent_loss(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no export mappings"):
        load_export_mappings(tmp_path / "missing")


def test_the_default_mappings_load() -> None:
    root = Path(__file__).resolve().parents[2]
    names = [m.name for m in load_export_mappings(root / "mappings" / "export")]
    assert names == ["customers", "orders"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-03-27 12:52:20", "2019-03-27T12:52:20"),
        ("2019-03-27T12:52:20+01:00", "2019-03-27T12:52:20+01:00"),
        ("2019-03-27", "2019-03-27"),
        ("", ""),
        ("soon", "soon"),
    ],
)
def test_both_centra_date_forms_become_iso_8601(value: str, expected: str) -> None:
    assert iso_datetime(value) == expected


def test_formats_and_the_formula_guard() -> None:
    decimal = make_format("decimal", places=2)
    assert decimal("1135") == "1135.00" and decimal("-5") == "-5.00"
    assert neutralise(decimal("-5")) == "-5.00"  # a number is never touched
    assert neutralise(decimal("-cmd")) == "'-cmd"  # not a number: free text
    assert make_format("integer")("2.000") == "2" and make_format("integer")("2.5") == "2.5"
    assert make_format("yesno")("true") == "yes" and make_format("yesno")("no") == "no"
    assert make_format("date")("2019-03-27T12:52:20+01:00") == "2019-03-27"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(start + "x") == "'" + start + "x"
    assert neutralise("plain") == "plain"
