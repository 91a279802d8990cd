"""Shared words of the whole pipeline (layer 0): the entities a mapping can target, and the
order in which a run sends them (SPEC.md, "Order of submission")."""

from __future__ import annotations

#: Entities of one stage are sent before those of the next stage.
STAGES: tuple[tuple[str, ...], ...] = (
    ("markets", "warehouses", "sizes", "paymentterms", "shippingterms", "pricealterationdates"),
    ("products",),
    ("pricelists", "stock"),
    ("salesreps", "accounts", "customers", "deliverywindows"),
    ("orders",),
    ("invoices",),
)

#: Every entity, in sending order.
ENTITY_ORDER: tuple[str, ...] = tuple(entity for stage in STAGES for entity in stage)

#: entity -> (stage, position in the stage), for sorting.
ORDER: dict[str, tuple[int, int]] = {
    entity: (stage, i) for stage, names in enumerate(STAGES) for i, entity in enumerate(names)
}
