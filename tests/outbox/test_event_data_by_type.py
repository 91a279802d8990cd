"""An event's data is the child of ``<data>`` named by its ``<type>``, whatever empty
placeholder siblings Centra sends around it (the reference's template lists account, customer,
invoice, market, order, pricelist, salesrep, size, warehouse, stock). An event whose data
cannot be read is never written as a junk row nor acknowledged: it stays queued, the pull
names it and exits 1, and the events behind it are exported and acknowledged.

Every pull here is ``centra-pipeline --json pull`` against a fake queue over real HTTP
(:func:`tests.outbox.conftest.queue_server`): events_Get answers the raw event XML.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.outbox import pull as pull_module
from pipeline.state.journal import Journal
from tests.outbox.conftest import (
    DTC,
    WHOLESALE,
    FakeQueue,
    all_rows,
    guide_event,
    invoke_pull,
    outbox_files,
    queue_server,
    with_id,
)

TEMPLATE = ("account", "customer", "invoice", "market", "order", "pricelist", "salesrep",
            "size", "warehouse", "stock")  # fmt: skip
WHOLESALE_ID = "25"
DATE = "<ns1:date>2019-03-27 12:52:20</ns1:date>"


def empty(*names: str) -> str:
    return "".join(f"<ns1:{name}/>" for name in names)


def templated(event: str, type_: str = "order", *, reverse: bool = False) -> str:
    """``event`` with the template's empty siblings before and after its object."""
    at = TEMPLATE.index(type_)
    before, after = TEMPLATE[:at], TEMPLATE[at + 1 :]
    if reverse:
        before, after = after[::-1], before[::-1]
    event = event.replace("<ns1:data>", "<ns1:data>" + empty(*before), 1)
    return event.replace("</ns1:data>", empty(*after) + "</ns1:data>", 1)


def placeholders_only(event_id: int, *, with_order: bool = True, entry: str = "31") -> str:
    """An order event whose <data> holds nothing readable."""
    names = TEMPLATE if with_order else tuple(n for n in TEMPLATE if n != "order")
    return (
        f"<ns1:event><ns1:id>{event_id}</ns1:id><ns1:type>order</ns1:type>"
        f"<ns1:entry>{entry}</ns1:entry><ns1:mission>update</ns1:mission>{DATE}"
        f"<ns1:data>{empty(*names)}</ns1:data></ns1:event>"
    )


def order(event_id: int, order_id: int, **replace: str) -> str:
    """The guide's DTC order event as another order, in the template's <data>."""
    event = with_id(guide_event(DTC), event_id, **replace)
    event = event.replace("<ns1:id>30</ns1:id>", f"<ns1:id>{order_id}</ns1:id>")
    event = event.replace("<ns1:entry>30<", f"<ns1:entry>{order_id}<")
    event = event.replace("<ns1:ordernumber>30<", f"<ns1:ordernumber>{order_id}<")
    return templated(event)


def confirmed(event: str) -> str:
    """A wholesale order pending in the guide is exported only once confirmed."""
    return event.replace("<ns1:status>pending</ns1:status>", "<ns1:status>confirmed</ns1:status>")


def pull(ws: Path, queue: FakeQueue) -> tuple[int, dict[str, object]]:
    with queue_server(queue) as server:
        code, out, _ = invoke_pull(ws, server.url)
    return code, out


def no_nan(rows: list[dict[str, str]]) -> None:
    bad = {k: v for row in rows for k, v in row.items() if v.strip().lower() in ("nan", "inf")}
    assert not bad, bad


def test_the_order_is_read_from_among_the_templates_empty_siblings(ws: Path) -> None:
    queue = FakeQueue([templated(guide_event(DTC))])
    code, out = pull(ws, queue)
    assert code == 0, out
    rows = all_rows(ws)
    assert [(r["order_id"], r["order_number"], r["orderitem_id"]) for r in rows] == [
        ("30", "30", "80"),
        ("30", "30", "81"),
    ]
    assert [r["subtotal"] for r in rows] == ["1000.00", "123.00"]
    assert {(r["order_total"], r["shipping_cost"], r["customer_id"]) for r in rows} == {
        ("1135.00", "12", "20")
    }
    no_nan(rows)
    assert queue.done == ["115"] and queue.events == []


@pytest.mark.parametrize("section", [DTC, WHOLESALE])
def test_siblings_in_any_order_read_as_the_bare_event(
    ws: Path, tmp_path: Path, section: str
) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(ws, bare)
    event = confirmed(guide_event(section))
    assert pull(bare, FakeQueue([event]))[0] == 0
    queue = FakeQueue([templated(event, reverse=True)])
    assert pull(ws, queue)[0] == 0
    expected = all_rows(bare)
    assert expected and all(r["order_id"] for r in expected)
    assert all_rows(ws) == expected and queue.events == []


def test_a_customer_event_reads_its_customer(ws: Path) -> None:
    customer = (
        "<ns1:event><ns1:id>9</ns1:id><ns1:type>customer</ns1:type><ns1:entry>20</ns1:entry>"
        f"<ns1:mission>update</ns1:mission>{DATE}<ns1:data><ns1:customer>"
        "<ns1:id>20</ns1:id><ns1:firstname>Example</ns1:firstname>"
        "<ns1:email>someone@example.com</ns1:email></ns1:customer></ns1:data></ns1:event>"
    )
    queue = FakeQueue([templated(customer, "customer")])
    code, out = pull(ws, queue)
    assert code == 0, out
    rows = all_rows(ws, "customers")
    assert [(r["customer_id"], r["firstname"], r["email"]) for r in rows] == [
        ("20", "Example", "someone@example.com")
    ]
    assert queue.done == ["9"]


@pytest.mark.parametrize(
    "poison",
    [
        placeholders_only(200),
        placeholders_only(200, with_order=False),
        order(200, 31).replace("<ns1:id>31</ns1:id>", "<ns1:id/>", 1),  # no order id
        order(200, 31).replace("<ns1:type>order</ns1:type>", "<ns1:type/>", 1),  # no type
    ],
    ids=["empty-order", "no-order", "no-order-id", "no-type"],
)
def test_an_unreadable_event_stays_queued_and_does_not_block_the_others(
    ws: Path, poison: str
) -> None:
    queue = FakeQueue([order(100, 40), poison, order(300, 41)])
    code, out = pull(ws, queue)
    assert code == 1 and out["exit_code"] == 1, out
    events = out["events"]
    assert isinstance(events, dict)
    assert queue.done == ["100", "300"] and queue.events == [poison]
    assert events["held"] == 1 and events["acknowledged"] == 2 and events["exported"] == 2
    warnings = [w for w in events["warnings"] if "200" in w]
    assert len(warnings) == 1 and "order" in warnings[0], events["warnings"]
    rows = all_rows(ws)
    assert sorted({r["order_id"] for r in rows}) == ["40", "41"]
    no_nan(rows)
    # not a hot loop: the held event came back once with the rest, then the pull stopped
    assert queue.calls.count("events_GetRequest") <= 3
    with Journal.open(ws / "state" / "journal.sqlite") as journal:
        held = journal.db.execute(
            "SELECT outcome, acknowledged_at FROM events WHERE event_id = '200'"
        ).fetchall()
    assert len(held) == 1 and held[0][0].startswith("held") and held[0][1] is None


def test_a_held_event_in_front_of_a_full_window_lets_the_queue_drain(ws: Path) -> None:
    poison = placeholders_only(1)
    queue = FakeQueue([poison] + [order(1000 + n, 5000 + n) for n in range(150)])
    code, out = pull(ws, queue)
    assert code == 1, out
    assert queue.events == [poison] and len(queue.done) == 150 and "1" not in queue.done
    assert len({r["order_id"] for r in all_rows(ws)}) == 150
    # again: still queued, still reported, nothing written twice
    files = outbox_files(ws)
    code, out = pull(ws, queue)
    events = out["events"]
    assert isinstance(events, dict)
    assert code == 1 and events["held"] == 1 and events["acknowledged"] == 0
    assert queue.events == [poison] and outbox_files(ws) == files


def test_an_older_event_without_ordertotal_and_ordernumber_is_never_nan(ws: Path) -> None:
    older = order(
        115,
        30,
        **{
            "<ns1:ordernumber>30</ns1:ordernumber>": "",
            "<ns1:ordertotal>1135.00</ns1:ordertotal>": "",
            "<ns1:price>123.00</ns1:price>": "",  # a line without its price
        },
    )
    queue = FakeQueue([older])
    code, out = pull(ws, queue)
    rows = all_rows(ws)
    no_nan(rows)
    assert [(r["order_id"], r["order_number"], r["order_total"]) for r in rows] == [
        ("30", "", ""),
        ("30", "", ""),
    ]
    assert [r["subtotal"] for r in rows] == ["1000.00", ""]
    events = out["events"]
    assert isinstance(events, dict)
    warnings = " | ".join(events["warnings"])
    assert "115" in warnings and "ordernumber" in warnings and "ordertotal" in warnings
    # the order was written and acknowledged: the empty cells are reported, not a failure
    assert code == 0 and queue.done == ["115"]


def test_every_export_path_reads_the_same_child(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [
        order(1, 30),
        templated(with_id(confirmed(guide_event(WHOLESALE)), 2), reverse=True),
        order(3, 32, **{"<ns1:qty>1<": "<ns1:qty>0.1<"}),  # the fast path falls back
        placeholders_only(4),
    ]
    contents = []
    for n, (fast, xslt) in enumerate([(True, True), (True, False), (False, False)]):
        where = tmp_path / f"ws{n}"
        shutil.copytree(ws, where)
        queue = FakeQueue(events)
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(pull_module, "compile_fast", lambda mapping: None)
            if not xslt:
                patch.setattr(pull_module, "compile_xslt", lambda mapping: None)
            code, _ = pull(where, queue)
        assert code == 1 and queue.done == ["1", "2", "3"]
        rows = all_rows(where)
        no_nan(rows)
        assert sorted({r["order_id"] for r in rows}) == sorted(["30", "32", WHOLESALE_ID])
        contents.append(b"".join(p.read_bytes() for p in outbox_files(where)))
    assert contents[0] == contents[1] == contents[2]


def test_a_run_whose_pull_held_an_event_does_not_exit_0(ws: Path) -> None:
    """``run`` pulls first: an event left queued as unreadable makes it exit 1 as ``pull`` does."""
    import json

    from click.testing import CliRunner

    from pipeline.cli import cli
    from tests.outbox.conftest import ENV

    (ws / "inbox").mkdir()
    queue = FakeQueue([order(100, 40), placeholders_only(200)])
    with queue_server(queue) as server:
        result = CliRunner().invoke(
            cli,
            ["--workspace", str(ws), "--json", "run"],
            env={**ENV, "CENTRA_URL": server.url},
        )
    out = json.loads(result.stdout)
    assert result.exit_code == 1 and out["exit_code"] == 1, result.output
    assert out["events"]["held"] == 1 and queue.done == ["100"]
    assert any("left in Centra's queue" in p for p in out["problems"])
