"""A WSDL 1.1 (document/literal) for the 17 operations, in Centra's namespace.

Centra's own WSDL is not public, so this one is written from the reference's templates and
the guide's examples (``shared/centra-soap-reference.md`` §6 lists the fields). Every
documented field is a typed element, so a standard client such as zeep takes plain dicts for
every operation: ``xsd:int`` for store ids, quantities, due days, packages and limits,
``xsd:decimal`` for money, rates and percentages, ``xsd:boolean`` for ``internal``, ``atonce``
and ``isbundle`` (Centra's yes/no flags such as ``locked`` or ``shipped`` are strings, as the
guide writes them), ``xsd:string`` for the rest. Every field is optional (updates are partial)
and every list is unbounded. Centra adds fields over time, so each structure ends with an
``xsd:any`` (lax): a schema written today never makes a client reject tomorrow's answers.

The ``*_Update`` and ``events_Done`` answers come in two forms (reference §4): the guide's
``<ns1:result>`` (success, errors, notices) and the reference's ``<accountsUpdateResponse>OK
</accountsUpdateResponse>`` without a namespace. Their output message declares both as parts,
so zeep returns an object with both attributes and exactly one of them set:
``answer.result.success`` (a bool) or ``answer.accountsUpdateResponse == "OK"``.
"""

from __future__ import annotations

from html import escape

from pipeline.sandbox.soap import CENTRA_NS, OPERATIONS, ok_element

S, INT, B, D = "xsd:string", "xsd:int", "xsd:boolean", "xsd:decimal"

#: A field: (name, type, repeated). The type is an ``xsd:``/``tns:`` type name or the fields
#: of a nested anonymous type. Every field is optional (minOccurs="0").
Field = tuple[str, "str | tuple[Field, ...]", bool]


def one(name: str, type_: str | tuple[Field, ...] = S) -> Field:
    return (name, type_, False)


def many(name: str, type_: str | tuple[Field, ...] = S) -> Field:
    return (name, type_, True)


def strings(*names: str) -> tuple[Field, ...]:
    return tuple(one(n) for n in names)


def wrapped(name: str, item: str, type_: str | tuple[Field, ...]) -> Field:
    """``<name><item/><item/>...</name>``: a container of repeated items."""
    return one(name, (many(item, type_),))


# ---------------------------------------------------------------- shared structures

NAMED: dict[str, tuple[Field, ...]] = {
    "Ref": strings("id", "description"),
    "Address": strings(
        "id",
        "description",
        "company",
        "attn",
        "firstname",
        "lastname",
        "address1",
        "address2",
        "city",
        "state",
        "zipcode",
        "country",
        "email",
        "telephone",
        "fax",
        "vat",
        "url",
        "companyregistrationid",
    ),
    # shipping, handling, voucher, returnfee, invoice additionals
    "LineAmount": (one("subtotal", D), *strings("description", "key", "id")),
    "CarrierInformation": (
        *strings("carrier", "service", "account", "taxid", "tracking"),
        one("packages", INT),
    ),
    "KeyValue": strings("key", "value"),
    "WarehouseQty": (one("id"), one("qty", INT), one("cog", D)),
    # a row of an order, of its cancellations, shipments and refunds
    "OrderSize": (
        one("id"),
        one("sku"),
        one("qty", INT),
        one("preorder"),
        one("description"),
        one("orderitem", "tns:Ref"),
        wrapped("warehouseitems", "warehouse", (one("id"), one("qty", INT))),
        wrapped("supplierorderitems", "supplierorder", (one("id"), one("qty", INT), one("eta"))),
    ),
    "OrderProduct": (
        one("id"),
        one("tax", D),
        one("sku"),
        one("origprice", D),
        one("price", D),
        one("discount", D),
        one("qty", INT),
        one("subtotal", D),
        one("description"),
        one("variation", "tns:Ref"),
        one("brand", "tns:Ref"),
        wrapped("sizes", "size", "tns:OrderSize"),
        one("type"),
        one("comment"),
        one(
            "bundleinfo",
            (one("isbundle", B), one("partof", (many("product", "tns:Ref"),))),
        ),
    ),
    "Refund": (
        one("id"),
        one("shipping", "tns:LineAmount"),
        one("voucher", "tns:LineAmount"),
        wrapped("products", "product", "tns:OrderProduct"),
        one("comment"),
        one("returnfee", "tns:LineAmount"),
        one("handling", "tns:LineAmount"),
        one("status"),
        one("type"),
    ),
    "Shipment": (
        *strings("id", "paid", "shipped", "goodtogo", "capture"),
        one("appendix", INT),
        one("shipmenttotal", D),
        one("paidtotal", D),
        one("currency"),
        one("currencyrate", D),
        one("basecurrency"),
        one("created"),
        one("shippingaddress", "tns:Address"),
        one("carrierinformation", "tns:CarrierInformation"),
        wrapped("products", "product", "tns:OrderProduct"),
        wrapped("refunds", "refund", "tns:Refund"),
        one("shipping", "tns:LineAmount"),
        one("handling", "tns:LineAmount"),
        one("voucher", "tns:LineAmount"),
    ),
    "SalesrepRef": (*strings("id", "description", "email", "name"), one("percent", D)),
}

_PRICES = (one("price", D), one("priceb", D), one("alteredprice", D), one("alteredpriceb", D))
_DISPLAY = (
    one("store", INT),
    wrapped("categories", "category", "tns:Ref"),
    wrapped("categoriesremove", "category", "tns:Ref"),
    wrapped("markets", "market", "tns:Ref"),
    wrapped("marketsremove", "market", "tns:Ref"),
    one("minimumorderamount", D),
    one("orderdenominator", INT),
)
_PRODUCT_SIZE = (
    one("id"),
    one("qty", INT),
    one("preorder"),
    one("description"),
    one("comment"),
    one("sku"),
    one("ean"),
    wrapped("warehouseitems", "warehouse", "tns:WarehouseQty"),
)
_VARIATION = (
    *strings("id", "stockid", "description", "sku", "status"),
    one("sizetable", "tns:Ref"),
    wrapped("sizes", "size", _PRODUCT_SIZE),
    wrapped("displays", "display", _DISPLAY),
    one("cog", D),
)
_PRODUCT = (
    *strings("id", "status", "sku", "description"),
    one("folder", "tns:Ref"),
    one("brand", "tns:Ref"),
    one("collection", "tns:Ref"),
    one("harmcode", "tns:Ref"),
    one("countryoforigin"),
    one("weight", (one("value", D), one("unit"))),
    wrapped("variations", "variation", _VARIATION),
    wrapped(
        "media",
        "image",
        (one("id"), one("image"), one("variation", "tns:Ref")),
    ),
    wrapped(
        "metadata",
        "storemeta",
        (
            *strings(
                "shortdescription",
                "description",
                "metatitle",
                "metakeywords",
                "metadescription",
                "taxgroup",
            ),
            one("store", INT),
        ),
    ),
    one("comment"),
)
_BUYER = (
    one("id"),
    one("store", INT),
    *strings(
        "status",
        "firstname",
        "lastname",
        "address1",
        "address2",
        "city",
        "state",
        "zipcode",
        "country",
        "email",
        "telephone",
        "fax",
    ),
    one("market", "tns:Ref"),
    one("pricelist", "tns:Ref"),
    one("password"),
)
_ACCOUNT = (
    *strings("id", "type", "status", "description", "other"),
    one("discount", D),
    one("market", "tns:Ref"),
    one("pricelist", "tns:Ref"),
    one("internalinformation"),
    one("creditlimit", D),
    one("salesrep", "tns:Ref"),
    one("paymentterms", "tns:Ref"),
    one("shippingterms", "tns:Ref"),
    one("accountaddress", "tns:Address"),
    one("shippingaddress", "tns:Address"),
    one("invoiceaddress", "tns:Address"),
    one("carrierinformation", "tns:CarrierInformation"),
    wrapped("buyers", "buyer", _BUYER),
    wrapped("addresses", "address", "tns:Address"),
    wrapped("additionals", "additional", "tns:KeyValue"),
)
_ORDER = (
    *strings("id", "ordernumber", "type"),
    one("store", INT),
    one("locked"),
    one("status"),
    one("ordertotal", D),
    one("currency"),
    one("currencyrate", D),
    one("basecurrency"),
    one("created"),
    one("internal", B),
    one("preferred_shipping_date"),
    one("buyer", strings("id", "description", "firstname", "lastname", "email")),
    one("salesrep", "tns:SalesrepRef"),
    one("mastersalesrep", "tns:SalesrepRef"),
    one("account", "tns:Ref"),
    one("paymentterms", "tns:Ref"),
    one("shippingterms", "tns:Ref"),
    one(
        "deliverywindow",
        (*strings("id", "description", "type"), one("atonce", B), *strings("start", "stop")),
    ),
    one("collection", "tns:Ref"),
    wrapped("additionals", "additional", "tns:KeyValue"),
    one("primary_warehouse", (one("warehouse", "tns:Ref"),)),
    one("shipping", "tns:LineAmount"),
    one("handling", "tns:LineAmount"),
    one("voucher", "tns:LineAmount"),
    one(
        "payments",
        (
            *strings("name", "type"),
            one("total", D),
            *strings("status", "method"),
            many(
                "payment",
                (
                    *strings("type", "paid"),
                    one("value", D),
                    *strings("created", "transaction", "document"),
                ),
            ),
        ),
    ),
    wrapped("products", "product", "tns:OrderProduct"),
    wrapped("cancelled", "product", "tns:OrderProduct"),
    wrapped("shipments", "shipment", "tns:Shipment"),
    one("carrierinformation", "tns:CarrierInformation"),
    one("customer", "tns:Ref"),
    one("shippingaddress", "tns:Address"),
    one("billingaddress", "tns:Address"),
    *strings("internalinformation", "other", "ponumber"),
    one("market", "tns:Ref"),
    one("pricelist", "tns:Ref"),
    one("ecvatno"),
)
_INVOICE = (
    one("id"),
    one("store", INT),
    *strings("status", "serialno", "documenttype", "type", "currency"),
    one("currencyrate", D),
    one("basecurrency"),
    one("total", D),
    one("vat", D),
    one("totalpaid", D),
    *strings("invoicedate", "orderdate", "duedate"),
    one("buyer", "tns:Ref"),
    one("account", "tns:Ref"),
    one("order", "tns:Ref"),
    one("shipment", "tns:Ref"),
    one("refund", "tns:Ref"),
    *strings("paymentterms", "shippingterms", "internalinformation", "ponumber"),
    one("billingaddress", "tns:Address"),
    one("shippingaddress", "tns:Address"),
    one(
        "items",
        (
            many(
                "invoiceitem",
                (
                    one("itemid"),
                    one("qty", INT),
                    one("price", D),
                    one("tax", D),
                    one("subtotal", D),
                    *strings("description", "product", "variation", "size"),
                    one("discount", D),
                    one("sku"),
                ),
            ),
            many("additional", "tns:LineAmount"),
        ),
    ),
    one("locked"),
)

#: operation: (collection element, item element, item fields)
UPDATES: dict[str, tuple[str, str, tuple[Field, ...]]] = {
    "accounts_Update": ("accounts", "account", _ACCOUNT),
    "customers_Update": (
        "customers",
        "customer",
        (
            one("id"),
            one("store", INT),
            *strings(
                "type",
                "status",
                "firstname",
                "lastname",
                "address1",
                "address2",
                "city",
                "state",
                "zipcode",
                "country",
                "email",
                "telephone",
                "password",
            ),
        ),
    ),
    "deliverywindows_Update": (
        "deliverywindows",
        "deliverywindow",
        (
            *strings("id", "status", "description", "startdate", "stopdate"),
            one("atonce", B),
            wrapped(
                "variations",
                "variation",
                (one("id"), one("type"), one("productlimit", INT), one("variationlimit", INT)),
            ),
            wrapped("variationsremove", "variation", "tns:Ref"),
        ),
    ),
    "invoices_Update": ("invoices", "invoice", _INVOICE),
    "markets_Update": (
        "markets",
        "market",
        (one("id"), one("store", INT), *strings("type", "description")),
    ),
    "orders_Update": ("orders", "order", _ORDER),
    "paymentterms_Update": (
        "paymentterms",
        "paymentterms",
        (*strings("id", "name", "description"), one("duedays", INT)),
    ),
    "pricealterationdates_Update": (
        "pricealterationdates",
        "pricealterationdate",
        (*strings("id", "status", "name"), one("store", INT), one("startdate")),
    ),
    "pricelists_Update": (
        "pricelists",
        "pricelist",
        (
            one("id"),
            one("store", INT),
            *strings("type", "currency", "description"),
            wrapped(
                "items", "product", (one("id"), *_PRICES, many("variation", (one("id"), *_PRICES)))
            ),
        ),
    ),
    "products_Update": ("products", "product", _PRODUCT),
    "salesreps_Update": (
        "salesreps",
        "salesrep",
        (
            *strings("id", "email", "name"),
            one("percent", D),
            wrapped("mastersalesrep", "salesrep", (one("id"), one("percent", D))),
        ),
    ),
    "shippingterms_Update": (
        "shippingterms",
        "shippingterms",
        (*strings("id", "name", "description"), one("duedays", INT)),
    ),
    "sizes_Update": (
        "sizes",
        "size",
        (
            *strings("id", "description", "sku", "ean", "comment"),
            one(
                "sizetable",
                (*strings("id", "description"), one("stockdivisor", INT), one("stockunit")),
            ),
        ),
    ),
    "warehouses_Update": ("warehouses", "warehouse", strings("id", "description")),
}
#: the event operations' fields, after login
EVENTS_REQUEST: dict[str, tuple[Field, ...]] = {
    "events_Get": (one("type"),),
    "events_GetByMarkets": (one("type"), wrapped("markets", "market", "tns:Ref")),
    "events_Done": (many("event", INT),),
}

#: Open content: anything (the events' <data>, whose children are the update structures).
_ANY = '<xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax" namespace="##any"/>'
#: What closes every structure. "##other" keeps the schema deterministic (valid XSD 1.0: an
#: optional Centra field followed by "##any" would be ambiguous); zeep ignores the namespace
#: and takes any element it does not know here, so new Centra fields never break parsing.
_EXTRA = '<xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax" namespace="##other"/>'


def request_fields(operation: str) -> tuple[Field, ...]:
    """The fields under an operation's request element, after ``login``."""
    if operation in EVENTS_REQUEST:
        return EVENTS_REQUEST[operation]
    collection, item, fields = UPDATES[operation]
    return (wrapped(collection, item, fields),)


def _sequence(fields: tuple[Field, ...], *, open_content: bool = True) -> str:
    out = []
    for name, type_, repeated in fields:
        occurs = ' minOccurs="0"' + (' maxOccurs="unbounded"' if repeated else "")
        if isinstance(type_, str):
            out.append(f'<xsd:element name="{name}" type="{type_}"{occurs}/>')
        else:
            out.append(
                f'<xsd:element name="{name}"{occurs}><xsd:complexType>'
                f"{_sequence(type_)}</xsd:complexType></xsd:element>"
            )
    return f"<xsd:sequence>{''.join(out)}{_EXTRA if open_content else ''}</xsd:sequence>"


def _named(name: str, fields: tuple[Field, ...]) -> str:
    return f'<xsd:complexType name="{name}">{_sequence(fields)}</xsd:complexType>'


def _element(name: str, sequence: str) -> str:
    return f'<xsd:element name="{name}"><xsd:complexType>{sequence}</xsd:complexType></xsd:element>'


def _request_root(operation: str) -> str:
    return "events_GetRequest" if operation == "events_Get" else operation


def _request_element(operation: str) -> str:
    login = (one("login", "tns:Login"),)
    sequence = _sequence(login + request_fields(operation), open_content=False)
    # login is required (every call logs in); the rest is optional
    sequence = sequence.replace(
        '<xsd:element name="login" type="tns:Login" minOccurs="0"/>',
        '<xsd:element name="login" type="tns:Login"/>',
        1,
    )
    return _element(_request_root(operation), sequence)


def _schema() -> str:
    common = (
        '<xsd:complexType name="Login"><xsd:sequence>'
        '<xsd:element name="username" type="xsd:string"/>'
        '<xsd:element name="password" type="xsd:string"/>'
        "</xsd:sequence></xsd:complexType>"
        f'<xsd:complexType name="Open"><xsd:sequence>{_ANY}</xsd:sequence></xsd:complexType>'
        '<xsd:complexType name="Messages"><xsd:sequence>'
        '<xsd:element name="message" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>'
        "</xsd:sequence></xsd:complexType>"
        + "".join(_named(name, fields) for name, fields in NAMED.items())
        + _element(
            "result",
            "<xsd:sequence>"
            '<xsd:element name="success" type="xsd:boolean"/>'
            '<xsd:element name="errors" type="tns:Messages" minOccurs="0"/>'
            '<xsd:element name="notices" type="tns:Messages" minOccurs="0"/>'
            f"{_EXTRA}</xsd:sequence>",
        )
        + _element(
            "events_Get",
            '<xsd:sequence><xsd:element name="events"><xsd:complexType><xsd:sequence>'
            '<xsd:element name="event" minOccurs="0" maxOccurs="unbounded"><xsd:complexType>'
            '<xsd:sequence><xsd:element name="id" type="xsd:int" minOccurs="0"/>'
            + "".join(
                f'<xsd:element name="{n}" type="xsd:string" minOccurs="0"/>'
                for n in ("type", "entry", "mission", "date")
            )
            + '<xsd:element name="data" type="tns:Open" minOccurs="0"/>'
            f"{_EXTRA}</xsd:sequence></xsd:complexType></xsd:element>"
            "</xsd:sequence></xsd:complexType></xsd:element></xsd:sequence>",
        )
    )
    elements = "".join(_request_element(op) for op in OPERATIONS)
    return (
        f'<xsd:schema targetNamespace="{CENTRA_NS}" elementFormDefault="qualified" '
        f'xmlns:tns="{CENTRA_NS}">'
        '<xsd:import namespace=""/>'
        f"{common}{elements}</xsd:schema>"
    )


def _ok_schema() -> str:
    """The reference's OK answers are in no namespace: a schema without a target namespace."""
    elements = "".join(
        f'<xsd:element name="{ok_element(op)}" type="xsd:string"/>'
        for op in OPERATIONS
        if not op.startswith("events_Get")
    )
    return f"<xsd:schema>{elements}</xsd:schema>"


def _output_parts(operation: str) -> str:
    if operation in ("events_Get", "events_GetByMarkets"):
        return '<wsdl:part name="parameters" element="tns:events_Get"/>'
    return (
        '<wsdl:part name="result" element="tns:result"/>'
        f'<wsdl:part name="{ok_element(operation)}" element="{ok_element(operation)}"/>'
    )


def document(location: str) -> str:
    """The WSDL, with ``location`` as the service address."""
    messages = "".join(
        f'<wsdl:message name="{op}Request"><wsdl:part name="parameters" '
        f'element="tns:{_request_root(op)}"/></wsdl:message>'
        f'<wsdl:message name="{op}Response">{_output_parts(op)}</wsdl:message>'
        for op in OPERATIONS
    )
    port_ops = "".join(
        f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}Request"/>'
        f'<wsdl:output message="tns:{op}Response"/></wsdl:operation>'
        for op in OPERATIONS
    )
    binding_ops = "".join(
        f'<wsdl:operation name="{op}">'
        f'<soap:operation soapAction="{CENTRA_NS}{op[0].upper()}{op[1:]}" style="document"/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input>'
        '<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
        for op in OPERATIONS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<wsdl:definitions name="CentraSoapApi" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{CENTRA_NS}" targetNamespace="{CENTRA_NS}">'
        f"<wsdl:types>{_ok_schema()}{_schema()}</wsdl:types>{messages}"
        f'<wsdl:portType name="CentraPortType">{port_ops}</wsdl:portType>'
        '<wsdl:binding name="CentraBinding" type="tns:CentraPortType">'
        '<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
        f"{binding_ops}</wsdl:binding>"
        '<wsdl:service name="CentraService"><wsdl:port name="CentraPort" '
        f'binding="tns:CentraBinding"><soap:address location="{escape(location)}"/></wsdl:port>'
        "</wsdl:service></wsdl:definitions>\n"
    )
