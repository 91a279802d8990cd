"""State in a file database survives a restart of the sandbox."""

from __future__ import annotations

from pathlib import Path

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient, load_catalog, stock


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "centra.db"
    with Sandbox(db=str(db), password="???") as sb:
        client = SoapClient(sb.url)
        load_catalog(client)
        order_id = sb.place_order(
            "Retail-Global", [("PWC", "PWC", "OS", 1)], "EUR-Retail", email="keep@example.com"
        )
        products, orders = sb.export("products"), sb.export("orders")
        events = [e["id"] for e in sb.events()]
        client.close()

    with Sandbox(db=str(db), password="???") as again:
        assert again.export("products") == products
        assert again.export("orders") == orders
        assert [e["id"] for e in again.events()] == events
        assert stock(again, "PWC", "OS") == {"MainWarehouse": 1, "OtherWarehouse": 1}
        client = SoapClient(again.url)
        # Sizetables stay frozen across restarts, and ids keep counting.
        reply = client.call(
            "sizes_Update",
            "<sizes><size><id>XL</id><sizetable><id>SML</id></sizetable></size></sizes>",
        )
        assert reply.errors == [
            "Sizetable SML cannot be changed once created: size XL is not in it"
        ]
        second = again.place_order("Retail-Global", [("PWC", "PWC", "OS", 1)], "EUR-Retail")
        assert int(second) == int(order_id) + 1
        assert len(again.requests(1000)) > 10  # the log too
        client.close()
