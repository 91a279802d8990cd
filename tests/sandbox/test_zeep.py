"""A standard SOAP client (zeep) loads the sandbox's WSDL and calls it, on loopback only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline.sandbox import Sandbox

zeep = pytest.importorskip("zeep")
from zeep.transports import Transport  # noqa: E402


class LoopbackTransport(Transport):
    """Refuses every URL that is not on 127.0.0.1, so the test can never reach the internet."""

    def _check(self, url: str) -> None:
        assert urlsplit(url).hostname == "127.0.0.1", url

    def load(self, url: str) -> Any:
        self._check(url)
        return super().load(url)

    def post(self, address: str, message: Any, headers: Any) -> Any:
        self._check(address)
        return super().post(address, message, headers)

    def get(self, address: str, params: Any, headers: Any) -> Any:
        self._check(address)
        return super().get(address, params, headers)


def test_zeep_loads_the_wsdl_and_calls_markets_update_and_events_get(sb: Sandbox) -> None:
    client = zeep.Client(sb.url + "?wsdl", transport=LoopbackTransport(cache=None))
    login = {"username": "example", "password": "???"}
    result = client.service.markets_Update(
        login=login,
        markets={
            "market": [
                {"id": "Retail-Global", "store": "1", "type": "retail", "description": "Global"},
                {
                    "id": "Wholesale-Market",
                    "store": "2",
                    "type": "wholesale",
                    "description": "Global",
                },
            ]
        },
    )
    # Two output parts, the guide's ns1:result and the reference's OK form: one of them is set.
    assert result.result.success is True and result.marketsUpdateResponse is None
    assert [r[0] for r in sb.store.query("SELECT id FROM objects WHERE type='market'")] == [
        "Retail-Global",
        "Wholesale-Market",
    ]
    assert sb.requests()[-1]["operation"] == "markets_Update"

    # zeep unwraps the single <events> child: the answer is the list of events.
    assert not client.service.events_Get(login=login, type="all")
    ids = sb.enqueue_events(3)
    events = client.service.events_Get(login=login, type="market")
    assert [int(e.id) for e in events] == ids
    assert events[0].type == "market" and events[0].mission == "update"
    done = client.service.events_Done(login=login, event=[str(i) for i in ids])
    assert done.result.success is True and sb.events() == []
    # Every operation is in the WSDL.
    operations = set(client.service._binding._operations)
    assert len(operations) == 17 and "pricealterationdates_Update" in operations
