"""Every request example of Centra's guide, rebuilt from Python data, equals the guide's XML.

Compared in canonical form (namespaces resolved, whitespace ignored). One deviation is stated
where it is tested: the guide's "Create Return (Refund)" example lacks the Centra namespace.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.centra.client import CentraClient
from pipeline.centra.transport import HandlerTransport, HTTPResponse
from tests.guide import canonical, example, examples


def _client(password: str = "???") -> CentraClient:
    def refuse(url: str, body: bytes, headers: Any) -> HTTPResponse:
        raise AssertionError("no request is sent in these tests")

    return CentraClient(
        "http://127.0.0.1:9/api", "example", password, transport=HandlerTransport(refuse)
    )


def _update(operation: str, collection: str, item: str, items: list[dict[str, Any]]) -> tuple:
    return operation, {collection: {item: items}}


def _sizes(product: dict[str, Any]) -> dict[str, Any]:
    return product


SWEATER_SIZES = [("S", "01"), ("M", "02"), ("L", "03")]


def _variation(vid: str, name: str, sku: str, status: str, eans: list[str]) -> dict[str, Any]:
    return {
        "id": vid,
        "stockid": vid,
        "description": name,
        "sku": sku,
        "status": status,
        "sizetable": {"id": "SML"},
        "sizes": {
            "size": [
                {"id": size, "sku": ssku, "ean": ean}
                for (size, ssku), ean in zip(SWEATER_SIZES, eans, strict=True)
            ]
        },
    }


FOLDER_BRAND_COLLECTION = {
    "brand": {"id": "Example", "description": "Example Brand"},
    "collection": {"id": "XMAS", "description": "X-Mas"},
}

ADDRESS = {
    "attn": "Person name",
    "address1": "Street 1",
    "address2": "Suite 123",
    "city": "City",
}


def _order_head(order_id: str, type_: str, store: str) -> dict[str, Any]:
    return {"id": order_id, "type": type_, "store": store}


def _line(pid: str, vid: str, sizes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": pid, "variation": {"id": vid}, "sizes": {"size": sizes}}


def _row(size: str, qty: str, orderitem: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": size, "qty": qty}
    if orderitem is not None:
        row["orderitem"] = {"id": orderitem}
    return row


def _orders(order: dict[str, Any]) -> tuple:
    return "orders_Update", {"orders": {"order": [order]}}


# (guide section, operation, payload, password used by that example)
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("Connection test", "events_Get", {"type": "all"}, "???"),
    (
        "Markets",
        *_update(
            "markets_Update",
            "markets",
            "market",
            [
                {"id": "Retail-Global", "store": "1", "type": "retail", "description": "Global"},
                {"id": "Retail-Sweden", "store": "1", "type": "retail", "description": "Sweden"},
                {
                    "id": "Wholesale-Market",
                    "store": "2",
                    "type": "wholesale",
                    "description": "Global",
                },
            ],
        ),
        "???",
    ),
    (
        "Product Data: Sizetables",
        *_update(
            "sizes_Update",
            "sizes",
            "size",
            [
                {"id": sid, "description": desc, "sizetable": {"id": tid, "description": tdesc}}
                for sid, desc, tid, tdesc in [
                    ("S", "Small", "SML", "Small Medium Large"),
                    ("M", "Medium", "SML", "Small Medium Large"),
                    ("L", "Large", "SML", "Small Medium Large"),
                    ("OS", "", "OneSize", "One Size"),
                ]
            ],
        ),
        "???",
    ),
    (
        "Product Data: A Sweater example",
        *_update(
            "products_Update",
            "products",
            "product",
            [
                {
                    "id": "T001",
                    "status": "active",
                    "sku": "TURTLE001",
                    "description": "Turtleneck sweater",
                    "folder": {"description": "Sweaters / Turtleneck"},
                    **FOLDER_BRAND_COLLECTION,
                    "variations": {
                        "variation": [
                            _variation(
                                "T001_RED",
                                "Red",
                                "RED",
                                "active",
                                ["1234567890123", "1234567890124", "1234567890125"],
                            ),
                            _variation(
                                "T001_BLUE",
                                "Blue",
                                "BLUE",
                                "inactive",
                                ["2234567890123", "2234567890124", "2234567890125"],
                            ),
                        ]
                    },
                }
            ],
        ),
        "???",
    ),
    (
        "Product Data: A Chair example",
        *_update(
            "products_Update",
            "products",
            "product",
            [
                {
                    "id": "PWC",
                    "status": "active",
                    "description": "Plain wood chair",
                    "folder": {"description": "Furniture / Chairs"},
                    **FOLDER_BRAND_COLLECTION,
                    "variations": {
                        "variation": [
                            {
                                "id": "PWC",
                                "stockid": "PWC",
                                "description": "Plain",
                                "status": "active",
                                "sizetable": {"id": "OneSize"},
                                "sizes": {"size": [{"id": "OS"}]},
                            }
                        ]
                    },
                }
            ],
        ),
        "???",
    ),
    (
        "Product Stock: Warehouses",
        *_update(
            "warehouses_Update",
            "warehouses",
            "warehouse",
            [
                {"id": "MainWarehouse", "description": "Main Warehouse"},
                {"id": "OtherWarehouse", "description": "Other Warehouse"},
            ],
        ),
        "???",
    ),
    (
        "Product Stock: Stock Update",
        *_update(
            "products_Update",
            "products",
            "product",
            [
                {
                    "id": "PWC",
                    "variations": {
                        "variation": {
                            "id": "PWC",
                            "stockid": "PWC",
                            "sizes": {
                                "size": {
                                    "id": "OS",
                                    "warehouseitems": {
                                        "warehouse": [
                                            {"id": "MainWarehouse", "qty": 1},
                                            {"id": "OtherWarehouse", "qty": 2},
                                        ]
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        ),
        "???",
    ),
    (
        "Pricelists",
        *_update(
            "pricelists_Update",
            "pricelists",
            "pricelist",
            [
                {
                    "id": "EUR-Retail",
                    "store": "1",
                    "type": "retail",
                    "currency": "EUR",
                    "description": "Euro",
                    "items": {
                        "product": [
                            {
                                "id": "T001",
                                "variation": [
                                    {"id": "T001_RED", "price": "123"},
                                    {"id": "T001_BLUE", "price": "234"},
                                ],
                            },
                            {"id": "PWC", "price": "1000"},
                        ]
                    },
                },
                {
                    "id": "USD-Wholesale",
                    "store": "2",
                    "type": "wholesale",
                    "currency": "USD",
                    "description": "US Dollar",
                    "items": {
                        "product": [
                            {
                                "id": "T001",
                                "variation": [
                                    {
                                        "id": "T001_RED",
                                        "price": "45",
                                        "priceb": "123",
                                        "alteredprice": "50",
                                        "alteredpriceb": "150",
                                    },
                                    {
                                        "id": "T001_BLUE",
                                        "price": "67",
                                        "priceb": "234",
                                        "alteredprice": "80",
                                        "alteredpriceb": "250",
                                    },
                                ],
                            },
                            {"id": "PWC", "price": "700", "priceb": "1000"},
                        ]
                    },
                },
            ],
        ),
        "???",
    ),
    (
        "Time Alteration Dates",
        *_update(
            "pricealterationdates_Update",
            "pricealterationdates",
            "pricealterationdate",
            [
                {
                    "id": "H20",
                    "status": "active",
                    "name": "Halloween 2020",
                    "store": "1",
                    "startdate": "2020-11-30",
                }
            ],
        ),
        # The guide's example uses a different placeholder password here ("????").
        "????",
    ),
    (
        "Wholesale Accounts: Payment Terms",
        *_update(
            "paymentterms_Update",
            "paymentterms",
            "paymentterms",
            [
                {
                    "id": "30NET",
                    "name": "30 Days",
                    "description": "Optional text describing this paymentterm",
                    "duedays": "30",
                }
            ],
        ),
        "???",
    ),
    (
        "Wholesale Accounts: Shipping Terms",
        *_update(
            "shippingterms_Update",
            "shippingterms",
            "shippingterms",
            [
                {
                    "id": "DDU",
                    "name": "Delivered Duty Unpaid",
                    "description": "Optional text describing this shippingterm",
                }
            ],
        ),
        "???",
    ),
    (
        "Wholesale Accounts: Account Data",
        *_update(
            "accounts_Update",
            "accounts",
            "account",
            [
                {
                    "id": "12345",
                    "type": "wholesale",
                    "status": "active",
                    "description": "Company Name",
                    "market": {"id": "Wholesale-Market"},
                    "pricelist": {"id": "USD-Wholesale"},
                    "paymentterms": {"id": "30NET"},
                    "shippingterms": {"id": "DDU"},
                    "accountaddress": {
                        "company": "Example",
                        **ADDRESS,
                        "state": "State",
                        "zipcode": "12345",
                        "country": "US",
                        "email": "info@example.com",
                        "telephone": "123 456 789",
                        "url": "www.example.com",
                    },
                    "shippingaddress": {
                        "company": "Example Warehouse",
                        **ADDRESS,
                        "state": "State",
                        "zipcode": "12345",
                        "country": "FR",
                        "email": "info@example.com",
                        "telephone": "123 456 789",
                    },
                    "invoiceaddress": {
                        "company": "Example Billing",
                        **ADDRESS,
                        "state": "",
                        "zipcode": "12345",
                        "country": "SE",
                        "email": "info@example.com",
                        "telephone": "123 456 789",
                        "vat": "SE12345678901",
                    },
                    "buyers": {
                        "buyer": [
                            {
                                "id": "12345_buyer1",
                                "store": "2",
                                "status": "active",
                                "firstname": "Frist",
                                "lastname": "Last",
                                "email": "first.last@example.com",
                            }
                        ]
                    },
                }
            ],
        ),
        "???",
    ),
    ("Direct-to-Consumer orders: Event", "events_Get", {"type": "order"}, "???"),
    (
        "Direct-to-Consumer orders: Event Done",
        "events_Done",
        {"event": ["115", "116", "117"]},
        "???",
    ),
    (
        "Direct-to-consumer orders: Lock Order",
        *_orders({**_order_head("30", "retail", "1"), "locked": "yes"}),
        "???",
    ),
    (
        "Direct-to-Consumer orders: Order Shipped",
        *_orders(
            {
                **_order_head("30", "retail", "1"),
                "status": "completed",
                "shipments": {
                    "shipment": {
                        "id": "8",
                        "shipped": "yes",
                        "capture": "yes",
                        "carrierinformation": {
                            "carrier": "UPS",
                            "service": "STANDARD",
                            "tracking": "1Z123123123123",
                        },
                    }
                },
            }
        ),
        "???",
    ),
    (
        "Direct-to-Consumer orders: Create Return (Refund)",
        *_orders(
            {
                **_order_head("30", "retail", "1"),
                "shipments": {
                    "shipment": {
                        "id": "30-1",
                        "appendix": "1",
                        "refunds": {
                            "refund": {
                                "id": "12",
                                "status": "confirmed",
                                "products": {
                                    "product": [_line("T001", "T001_RED", [_row("S", "1")])]
                                },
                            }
                        },
                    }
                },
            }
        ),
        "???",
    ),
    (
        "Wholesale orders: Event By Markets",
        "events_GetByMarkets",
        {"type": "order", "markets": {"market": [{"id": "Wholesale-Market"}]}},
        "???",
    ),
    ("Wholesale orders: Event Done", "events_Done", {"event": ["121"]}, "???"),
    (
        "Wholesale orders: Confirm And Lock Order",
        *_orders({**_order_head("25", "wholesale", "2"), "status": "confirmed", "locked": "yes"}),
        "???",
    ),
    (
        "Wholesale orders: Cancel Item",
        *_orders(
            {
                **_order_head("25", "wholesale", "2"),
                "cancelled": {
                    "product": {
                        "id": "T001",
                        "variation": {"id": "T001_RED"},
                        "sizes": {"size": {**_row("L", "1", "71"), "supplierorderitems": ""}},
                    }
                },
            }
        ),
        "???",
    ),
    (
        "Wholesale orders: Shipment 1",
        *_orders(
            {
                **_order_head("25", "wholesale", "2"),
                "shipments": {
                    "shipment": {
                        "id": "shipment-25-1",
                        "shipped": "no",
                        "goodtogo": "yes",
                        "appendix": "1",
                        "products": {
                            "product": [
                                _line(
                                    "T001",
                                    "T001_BLUE",
                                    [_row("S", "1", "68"), _row("M", "1", "69")],
                                ),
                                _line("PWC", "PWC", [_row("OS", "2", "67")]),
                            ]
                        },
                        "shipping": {"subtotal": "123"},
                    }
                },
            }
        ),
        "???",
    ),
    (
        "Wholesale orders: Shipment 2",
        *_orders(
            {
                **_order_head("25", "wholesale", "2"),
                "shipments": {
                    "shipment": {
                        "id": "shipment-25-2",
                        "shipped": "no",
                        "goodtogo": "yes",
                        "appendix": "2",
                        "products": {
                            "product": [
                                _line("T001", "T001_BLUE", [_row("M", "1", "69")]),
                                _line(
                                    "T001", "T001_RED", [_row("M", "3", "70"), _row("L", "3", "71")]
                                ),
                            ]
                        },
                        "shipping": {"subtotal": "0"},
                    }
                },
            }
        ),
        "???",
    ),
    (
        "Wholesale orders: Shipped",
        *_orders(
            {
                **_order_head("25", "wholesale", "2"),
                "shipments": {
                    "shipment": [
                        {
                            "id": f"shipment-25-{n}",
                            "shipped": "yes",
                            "carrierinformation": {
                                "carrier": "DHL",
                                "service": "EXPRESS",
                                "tracking": tracking,
                            },
                        }
                        for n, tracking in ((1, "876543210"), (2, "987654321"))
                    ]
                },
            }
        ),
        "???",
    ),
]

RETURN_SECTION = "Direct-to-Consumer orders: Create Return (Refund)"


def test_every_request_example_of_the_guide_is_covered() -> None:
    in_guide = [e.section for e in examples() if e.kind == "request"]
    assert sorted(in_guide) == sorted(case[0] for case in CASES)
    assert len(in_guide) == 24


@pytest.mark.parametrize(
    ("section", "operation", "payload", "password"), CASES, ids=[c[0] for c in CASES]
)
def test_request_equals_the_guides_example(
    section: str, operation: str, payload: dict[str, Any], password: str
) -> None:
    built = _client(password).build(operation, payload)
    expected = example(section)
    if section == RETURN_SECTION:
        # Deviation: the guide prints <orders_Update> without xmlns, which would put every
        # element outside Centra's namespace (a documentation defect, see the reference §9).
        # We always send the namespace, so we compare with it added.
        assert "<orders_Update>" in expected
        expected = expected.replace(
            "<orders_Update>", '<orders_Update xmlns="http://www.centra.com/webservices/">'
        )
    assert canonical(built) == canonical(expected)


def test_soap_action_is_quoted_and_capitalised() -> None:
    from pipeline.centra.operations import OPERATIONS

    assert OPERATIONS["events_Get"].soap_action == '"http://www.centra.com/webservices/Events_Get"'
    assert OPERATIONS["pricealterationdates_Update"].soap_action == (
        '"http://www.centra.com/webservices/Pricealterationdates_Update"'
    )
    assert OPERATIONS["events_Get"].root == "events_GetRequest"
    assert len(OPERATIONS) == 17
