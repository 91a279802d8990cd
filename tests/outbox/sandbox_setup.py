"""A small catalogue in the sandbox, sent through the pipeline's own client, and test orders.

Markets Retail-SE (store 1) and Wholesale-EU (store 2), their pricelists, a sizetable, five
sweaters with three sizes each (plenty of stock in two warehouses), a bundle, and a wholesale
account with a buyer.
"""

from __future__ import annotations

import random
from typing import Any

from pipeline.centra.client import CentraClient

PRODUCTS = [f"P{n}" for n in range(1, 6)]
SIZES = ["S", "M", "L"]
STOCK = 100_000


def load_catalogue(client: CentraClient) -> None:
    client.update(
        "markets_Update",
        [
            {"id": "Retail-SE", "store": "1", "type": "retail", "description": "Sweden"},
            {"id": "Wholesale-EU", "store": "2", "type": "wholesale", "description": "Europe"},
        ],
    )
    client.update(
        "sizes_Update",
        [
            {"id": s, "description": s, "sku": f"0{n}", "sizetable": {"id": "SML"}}
            for n, s in enumerate(SIZES, 1)
        ],
    )
    products = [_product(p) for p in PRODUCTS] + [_bundle()]
    client.update("products_Update", products)
    prices = [{"id": p, "price": f"{100 + 10 * n}.00"} for n, p in enumerate(PRODUCTS)]
    prices.append({"id": "BUNDLE", "price": "250.00"})
    client.update(
        "pricelists_Update",
        [
            {"id": "SEK-Retail", "store": "1", "type": "retail", "currency": "SEK",
             "description": "Kronor", "items": {"product": prices}},
            {"id": "EUR-Wholesale", "store": "2", "type": "wholesale", "currency": "EUR",
             "description": "Euro", "items": {"product": prices}},
        ],
    )  # fmt: skip
    client.update("paymentterms_Update", [{"id": "30NET", "name": "30 days"}])
    client.update("shippingterms_Update", [{"id": "DDU", "name": "Delivered Duty Unpaid"}])
    address = {"company": "Shop AB", "address1": "Street 1", "city": "City", "country": "DE"}
    client.update(
        "accounts_Update",
        [
            {
                "id": "ACC1",
                "type": "wholesale",
                "status": "active",
                "description": "Shop AB",
                "market": {"id": "Wholesale-EU"},
                "pricelist": {"id": "EUR-Wholesale"},
                "paymentterms": {"id": "30NET"},
                "shippingterms": {"id": "DDU"},
                "shippingaddress": address,
                "invoiceaddress": address,
                "buyers": {"buyer": [{"id": "ACC1_b", "store": "2", "status": "active",
                                      "firstname": "Bo", "lastname": "Buyer",
                                      "email": "bo@example.com"}]},
            }
        ],
    )  # fmt: skip


def _sizes() -> dict[str, Any]:
    warehouses = [{"id": "MainWarehouse", "qty": str(STOCK)}, {"id": "Other", "qty": "10"}]
    return {"size": [{"id": s, "warehouseitems": {"warehouse": warehouses}} for s in SIZES]}


def _product(pid: str) -> dict[str, Any]:
    return {
        "id": pid,
        "status": "active",
        "sku": pid,
        "description": f"Sweater {pid}",
        "variations": {
            "variation": [
                {"id": f"{pid}_{c}", "stockid": f"{pid}_{c}", "description": c, "sku": c,
                 "status": "active", "sizetable": {"id": "SML"}, "sizes": _sizes()}
                for c in ("RED", "BLUE")
            ]
        },
    }  # fmt: skip


def _bundle() -> dict[str, Any]:
    return {
        "id": "BUNDLE",
        "status": "active",
        "sku": "BUNDLE",
        "description": "Two sweaters",
        "variations": {"variation": [{"id": "BUNDLE_V", "stockid": "BUNDLE_V",
                                      "description": "Pack", "status": "active",
                                      "sizetable": {"id": "SML"}, "sizes": _sizes()}]},
    }  # fmt: skip


def random_lines(rng: random.Random, bundle: bool) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 3)):
        p = rng.choice(PRODUCTS)
        lines.append(
            {"product": p, "variation": f"{p}_{rng.choice(['RED', 'BLUE'])}",
             "size": rng.choice(SIZES), "qty": rng.randint(1, 3), "warehouse": "MainWarehouse"}
        )  # fmt: skip
    if bundle:
        parts = [
            {"product": "P1", "variation": "P1_RED", "size": "M", "qty": 1},
            {"product": "P2", "variation": "P2_BLUE", "size": "M", "qty": 1},
        ]
        lines.append(
            {"product": "BUNDLE", "variation": "BUNDLE_V", "size": "M", "qty": 1, "parts": parts}
        )
    return lines
