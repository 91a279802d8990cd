"""The 17 operations of Centra's SOAP API (centra-soap-reference.md, section 3).

Each operation has its SOAPAction (quoted, first letter upper-cased) and the request's root
element. Only events_Get differs: its request element is ``events_GetRequest``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.centra.xmlbuild import CENTRA_NS


@dataclass(frozen=True)
class Operation:
    name: str
    root: str
    #: The payload's top-level collection element (None for the event operations).
    collection: str | None = None
    #: The element repeated inside the collection.
    item: str | None = None
    read_only: bool = False

    @property
    def soap_action(self) -> str:
        return f'"{CENTRA_NS}{self.name[0].upper()}{self.name[1:]}"'


def _update(entity: str, item: str) -> Operation:
    return Operation(f"{entity}_Update", f"{entity}_Update", entity, item)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        _update("accounts", "account"),
        _update("customers", "customer"),
        _update("deliverywindows", "deliverywindow"),
        Operation("events_Done", "events_Done"),
        Operation("events_Get", "events_GetRequest", read_only=True),
        Operation("events_GetByMarkets", "events_GetByMarkets", read_only=True),
        _update("invoices", "invoice"),
        _update("markets", "market"),
        _update("orders", "order"),
        _update("paymentterms", "paymentterms"),
        _update("pricealterationdates", "pricealterationdate"),
        _update("pricelists", "pricelist"),
        _update("products", "product"),
        _update("salesreps", "salesrep"),
        _update("shippingterms", "shippingterms"),
        _update("sizes", "size"),
        _update("warehouses", "warehouse"),
    )
}

#: Event types events_Get accepts (centra-soap-reference.md, section 5).
EVENT_TYPES = (
    "all",
    "account",
    "customer",
    "invoice",
    "market",
    "order",
    "paymentterm",
    "pricelist",
    "salesrep",
    "shippingterm",
    "size",
    "stock",
    "warehouse",
)
