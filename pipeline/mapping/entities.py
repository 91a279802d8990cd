"""The Centra structure of every entity a mapping can target.

Each entity is a tree of *levels*. A level is one kind of repeated element (a product, its
variations, their sizes...) identified by a key; its *layout* lists its elements in Centra's
order (centra-soap-reference.md section 6, the guide's examples where the two differ):

- ``name`` is a text element; ``name{...}`` a group of elements (``folder{id description}``);
- ``@level`` places the items of a child level (``variations{@variation}`` gives
  ``<variations><variation>...</variation>...</variations>``).

A mapping addresses a text element by ``<level>.<path inside the level>``: ``product.id``,
``product.folder.description``, ``variation.sizetable.id``, ``size.ean``, ``warehouse.qty``,
``shipment.product.variation.id``. Level names may contain a dot (``shipment.product``); the
longest level name that prefixes a path wins.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from pipeline.centra.operations import OPERATIONS
from pipeline.vocabulary import ENTITY_ORDER  # noqa: F401 (re-exported: the sending order)

ADDRESS = (
    "id description company attn firstname lastname address1 address2 city state zipcode "
    "country email telephone fax vat url companyregistrationid"
)
REF = "{id description}"
AMOUNT = "{subtotal description key id}"
CARRIER = "{carrier service account taxid tracking packages}"


@dataclass(frozen=True)
class Leaf:
    name: str
    path: str  # path inside the level, e.g. "folder.description"


@dataclass(frozen=True)
class Group:
    name: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Child:
    level: str


Entry = Leaf | Group | Child


@dataclass(frozen=True)
class Level:
    """One repeated element of an entity's structure."""

    name: str
    element: str
    key: tuple[str, ...]
    entries: tuple[Entry, ...]
    #: Left out unless one of these (a field path or a child level name) has a value: a stock
    #: warehouse entry without quantity, a pricelist variation without any price.
    prune_unless: tuple[str, ...] = ()
    parent: str | None = None
    children: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # every text path inside the level, in element order


@dataclass(frozen=True)
class Entity:
    name: str
    operation: str
    root: str
    levels: dict[str, Level]
    #: The level whose items are dropped whole when one of their rows fails (the object itself,
    #: except for pricelists, where one product's prices are dropped, not the whole pricelist).
    unit: str
    #: Field paths that can be filled from the catalogue instead of from columns (stock).
    resolvable: tuple[str, ...] = ()
    doc: str = ""
    paths: tuple[str, ...] = field(default=())

    @property
    def top(self) -> Level:
        return self.levels[self.root]

    def chain(self, level: str) -> list[Level]:
        """The levels from the top down to ``level``."""
        out = []
        current: str | None = level
        while current is not None:
            out.append(self.levels[current])
            current = self.levels[current].parent
        return out[::-1]

    def split_path(self, path: str) -> tuple[str, str] | None:
        """``"variation.sizetable.id"`` -> ``("variation", "sizetable.id")``; None if unknown."""
        for name in sorted(self.levels, key=len, reverse=True):
            if path.startswith(name + "."):
                sub = path[len(name) + 1 :]
                if sub in self.levels[name].fields:
                    return name, sub
                return None
        return None

    def suggest(self, path: str) -> str | None:
        tail = path.rsplit(".", 1)[-1]
        same_tail = [p for p in self.paths if p.endswith("." + tail)]
        if len(same_tail) == 1:
            return same_tail[0]
        close = difflib.get_close_matches(path, self.paths, n=1, cutoff=0.6)
        return close[0] if close else (same_tail[0] if same_tail else None)


_TOKEN = re.compile(r"\s*(@?[\w.]+)(\{)?|\s*(\})")


def _parse(layout: str) -> tuple[Entry, ...]:
    pos = 0

    def entries(prefix: str, closing: bool) -> tuple[Entry, ...]:
        nonlocal pos
        out: list[Entry] = []
        while True:
            match = _TOKEN.match(layout, pos)
            if match is None:
                if layout[pos:].strip():
                    raise ValueError(f"bad layout near {layout[pos : pos + 20]!r}")
                if closing:
                    raise ValueError("unclosed {")
                return tuple(out)
            pos = match.end()
            if match.group(3):
                if not closing:
                    raise ValueError("unexpected }")
                return tuple(out)
            name = match.group(1)
            if name.startswith("@"):
                out.append(Child(name[1:]))
            elif match.group(2):
                out.append(Group(name, entries(f"{prefix}{name}.", True)))
            else:
                out.append(Leaf(name, prefix + name))

    return entries("", False)


def _leaves(entries: tuple[Entry, ...]) -> list[str]:
    out: list[str] = []
    for entry in entries:
        if isinstance(entry, Leaf):
            out.append(entry.path)
        elif isinstance(entry, Group):
            out.extend(_leaves(entry.entries))
    return out


def _children(entries: tuple[Entry, ...]) -> list[str]:
    out: list[str] = []
    for entry in entries:
        if isinstance(entry, Child):
            out.append(entry.level)
        elif isinstance(entry, Group):
            out.extend(_children(entry.entries))
    return out


def _entity(
    name: str,
    levels: list[
        tuple[str, str, str, tuple[str, ...]]
        | tuple[str, str, str, tuple[str, ...], tuple[str, ...]]
    ],
    *,
    unit: str | None = None,
    resolvable: tuple[str, ...] = (),
    operation: str | None = None,
    doc: str = "",
) -> Entity:
    parsed: dict[str, Level] = {}
    for spec in levels:
        level_name, element, layout, key = spec[0], spec[1], spec[2], spec[3]
        prune = spec[4] if len(spec) > 4 else ()
        entries = _parse(layout)
        parsed[level_name] = Level(
            level_name,
            element,
            key,
            entries,
            prune_unless=prune,
            children=tuple(_children(entries)),
            fields=tuple(_leaves(entries)),
        )
    for level in list(parsed.values()):
        for child in level.children:
            child_level = parsed[child]
            parsed[child] = Level(**{**child_level.__dict__, "parent": level.name})
    root = levels[0][0]
    op = OPERATIONS[operation or f"{name}_Update"]
    paths = tuple(f"{lv.name}.{p}" for lv in parsed.values() for p in lv.fields)
    return Entity(
        name, op.name, root, parsed, unit or root, resolvable=resolvable, doc=doc, paths=paths
    )


_PRICES = "price priceb alteredprice alteredpriceb"

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        _entity("markets", [("market", "market", "id store type description", ("id",))]),
        _entity("warehouses", [("warehouse", "warehouse", "id description", ("id",))]),
        _entity(
            "sizes",
            [
                (
                    "size",
                    "size",
                    "id description sku ean comment "
                    "sizetable{id description stockdivisor stockunit}",
                    ("sizetable.id", "id"),
                )
            ],
            doc="object key: '<sizetable id>/<size id>'",
        ),
        _entity(
            "paymentterms",
            [("paymentterms", "paymentterms", "id name description duedays", ("id",))],
        ),
        _entity(
            "shippingterms",
            [("shippingterms", "shippingterms", "id name description duedays", ("id",))],
        ),
        _entity(
            "pricealterationdates",
            [
                (
                    "pricealterationdate",
                    "pricealterationdate",
                    "id status name store startdate",
                    ("id",),
                )
            ],
        ),
        _entity(
            "products",
            [
                (
                    "product",
                    "product",
                    f"id status sku description folder{REF} brand{REF} collection{REF} "
                    f"harmcode{REF} countryoforigin weight{{value unit}} variations{{@variation}} "
                    "media{@image} metadata{@storemeta} comment",
                    ("id",),
                ),
                (
                    "variation",
                    "variation",
                    f"id stockid description sku status sizetable{REF} sizes{{@size}} cog",
                    ("id",),
                ),
                ("size", "size", "id qty preorder description comment sku ean", ("id",)),
                ("image", "image", f"id image variation{REF}", ("id",)),
                (
                    "storemeta",
                    "storemeta",
                    "shortdescription description metatitle metakeywords metadescription "
                    "taxgroup store",
                    ("store",),
                ),
            ],
        ),
        _entity(
            "stock",
            [
                ("product", "product", "id variations{@variation}", ("id",), ("variation",)),
                ("variation", "variation", "id stockid sizes{@size}", ("id",), ("size",)),
                ("size", "size", "id warehouseitems{@warehouse}", ("id",), ("warehouse",)),
                ("warehouse", "warehouse", "id qty cog", ("id",), ("qty", "cog")),
            ],
            operation="products_Update",
            resolvable=("product.id", "variation.id", "size.id"),
        ),
        _entity(
            "pricelists",
            [
                (
                    "pricelist",
                    "pricelist",
                    "id store type currency description items{@product}",
                    ("id",),
                ),
                ("product", "product", f"id {_PRICES} @variation", ("id",)),
                ("variation", "variation", f"id {_PRICES}", ("id",), tuple(_PRICES.split())),
            ],
            unit="product",
        ),
        _entity(
            "accounts",
            [
                (
                    "account",
                    "account",
                    f"id type status description other discount market{REF} pricelist{REF} "
                    f"internalinformation creditlimit salesrep{REF} paymentterms{REF} "
                    f"shippingterms{REF} accountaddress{{{ADDRESS}}} "
                    f"shippingaddress{{{ADDRESS}}} invoiceaddress{{{ADDRESS}}} "
                    f"carrierinformation{CARRIER} buyers{{@buyer}} addresses{{@address}} "
                    "additionals{@additional}",
                    ("id",),
                ),
                (
                    "buyer",
                    "buyer",
                    "id store status firstname lastname address1 address2 city state zipcode "
                    f"country email telephone fax market{REF} pricelist{REF} password",
                    ("id",),
                ),
                ("address", "address", ADDRESS, ("id",)),
                ("additional", "additional", "key value", ("key",)),
            ],
        ),
        _entity(
            "customers",
            [
                (
                    "customer",
                    "customer",
                    "id store type status firstname lastname address1 address2 city state "
                    "zipcode country email telephone",
                    ("id",),
                )
            ],
        ),
        _entity(
            "salesreps",
            [
                (
                    "salesrep",
                    "salesrep",
                    "id email name percent mastersalesrep{@mastersalesrep}",
                    ("id",),
                ),
                ("mastersalesrep", "salesrep", "id percent", ("id",)),
            ],
        ),
        _entity(
            "deliverywindows",
            [
                (
                    "deliverywindow",
                    "deliverywindow",
                    "id status description startdate stopdate atonce variations{@variation} "
                    "variationsremove{@variationsremove}",
                    ("id",),
                ),
                ("variation", "variation", "id type productlimit variationlimit", ("id",)),
                ("variationsremove", "variation", "id", ("id",)),
            ],
        ),
        _entity(
            "orders",
            [
                (
                    "order",
                    "order",
                    # The guide sends status before locked (the WSDL template has them the other
                    # way round); we follow the guide's examples.
                    "id ordernumber type store status locked preferred_shipping_date "
                    "additionals{@additional} cancelled{@cancelled.product} "
                    f"shipments{{@shipment}} shippingaddress{{{ADDRESS}}} "
                    f"billingaddress{{{ADDRESS}}} internalinformation other ponumber",
                    ("id",),
                ),
                ("additional", "additional", "key value", ("key",)),
                (
                    "cancelled.product",
                    "product",
                    f"id variation{REF} sizes{{@cancelled.size}}",
                    ("id", "variation.id"),
                ),
                (
                    "cancelled.size",
                    "size",
                    f"id qty orderitem{REF} supplierorderitems",
                    ("id", "orderitem.id"),
                ),
                (
                    "shipment",
                    "shipment",
                    "id paid shipped goodtogo capture appendix "
                    f"shippingaddress{{{ADDRESS}}} carrierinformation{CARRIER} "
                    "products{@shipment.product} refunds{@refund} "
                    f"shipping{AMOUNT} handling{AMOUNT} voucher{AMOUNT}",
                    ("id",),
                ),
                (
                    "shipment.product",
                    "product",
                    f"id variation{REF} sizes{{@shipment.size}}",
                    ("id", "variation.id"),
                ),
                ("shipment.size", "size", f"id qty orderitem{REF}", ("id", "orderitem.id")),
                (
                    "refund",
                    "refund",
                    # The guide's return example puts status right after id.
                    f"id status type shipping{AMOUNT} voucher{AMOUNT} products{{@refund.product}} "
                    f"comment returnfee{AMOUNT} handling{AMOUNT}",
                    ("id",),
                ),
                (
                    "refund.product",
                    "product",
                    f"id variation{REF} sizes{{@refund.size}}",
                    ("id", "variation.id"),
                ),
                ("refund.size", "size", f"id qty orderitem{REF}", ("id", "orderitem.id")),
            ],
        ),
        _entity(
            "invoices",
            [
                (
                    "invoice",
                    "invoice",
                    "id store status serialno documenttype type currency currencyrate "
                    "basecurrency total vat totalpaid invoicedate orderdate duedate "
                    f"buyer{REF} account{REF} order{REF} shipment{REF} refund{REF} "
                    "paymentterms shippingterms internalinformation ponumber "
                    f"billingaddress{{{ADDRESS}}} shippingaddress{{{ADDRESS}}} "
                    "items{@invoiceitem @additional} locked",
                    ("id",),
                ),
                (
                    "invoiceitem",
                    "invoiceitem",
                    "itemid qty price tax subtotal description product variation size discount sku",
                    ("itemid",),
                ),
                ("additional", "additional", "subtotal description key id", ("key",)),
            ],
        ),
    )
}
