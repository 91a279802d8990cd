"""A WSDL 1.1 (document/literal) for the 17 operations, in Centra's namespace.

Centra's own WSDL is not public, so this one is written from the reference's templates. Flat
objects (markets, warehouses, terms, price alteration dates) and the event operations are
typed; the deep ones (products, orders, accounts...) are open content (``xsd:any``, lax), so a
standard client such as zeep can call every operation and Centra's growing field lists never
make the schema reject a request.
"""

from __future__ import annotations

from html import escape

from pipeline.sandbox.soap import CENTRA_NS, OPERATIONS

#: collection element: (item element, its fields) for the typed flat objects
FLAT = {
    "markets": ("market", ("id", "store", "type", "description")),
    "warehouses": ("warehouse", ("id", "description")),
    "paymentterms": ("paymentterms", ("id", "name", "description", "duedays")),
    "shippingterms": ("shippingterms", ("id", "name", "description", "duedays")),
    "pricealterationdates": (
        "pricealterationdate",
        ("id", "status", "name", "store", "startdate"),
    ),
}
_ANY = '<xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax" namespace="##any"/>'


def _strings(names: tuple[str, ...]) -> str:
    return "".join(f'<xsd:element name="{n}" type="xsd:string" minOccurs="0"/>' for n in names)


def _request_element(operation: str) -> str:
    login = '<xsd:element name="login" type="tns:Login"/>'
    if operation == "events_Get":
        body = '<xsd:element name="type" type="xsd:string" minOccurs="0"/>'
        return _element("events_GetRequest", login + body)
    if operation == "events_GetByMarkets":
        body = (
            '<xsd:element name="type" type="xsd:string" minOccurs="0"/>'
            '<xsd:element name="markets" minOccurs="0"><xsd:complexType><xsd:sequence>'
            '<xsd:element name="market" minOccurs="0" maxOccurs="unbounded"><xsd:complexType>'
            f"<xsd:sequence>{_strings(('id', 'description'))}</xsd:sequence>"
            "</xsd:complexType></xsd:element></xsd:sequence></xsd:complexType></xsd:element>"
        )
        return _element(operation, login + body)
    if operation == "events_Done":
        body = '<xsd:element name="event" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>'
        return _element(operation, login + body)
    collection = operation.removesuffix("_Update")
    if collection in FLAT:
        item, names = FLAT[collection]
        body = (
            f'<xsd:element name="{collection}" minOccurs="0"><xsd:complexType><xsd:sequence>'
            f'<xsd:element name="{item}" minOccurs="0" maxOccurs="unbounded"><xsd:complexType>'
            f"<xsd:sequence>{_strings(names)}{_ANY}</xsd:sequence></xsd:complexType>"
            "</xsd:element></xsd:sequence></xsd:complexType></xsd:element>"
        )
    else:
        body = f'<xsd:element name="{collection}" type="tns:Open" minOccurs="0"/>'
    return _element(operation, login + body)


def _element(name: str, sequence: str) -> str:
    return (
        f'<xsd:element name="{name}"><xsd:complexType><xsd:sequence>{sequence}'
        "</xsd:sequence></xsd:complexType></xsd:element>"
    )


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
        + _element(
            "result",
            '<xsd:element name="success" type="xsd:string"/>'
            '<xsd:element name="errors" type="tns:Messages" minOccurs="0"/>'
            '<xsd:element name="notices" type="tns:Messages" minOccurs="0"/>',
        )
        + _element(
            "events_Get",
            '<xsd:element name="events"><xsd:complexType><xsd:sequence>'
            '<xsd:element name="event" minOccurs="0" maxOccurs="unbounded"><xsd:complexType>'
            f"<xsd:sequence>{_strings(('id', 'type', 'entry', 'mission', 'date'))}"
            '<xsd:element name="data" type="tns:Open" minOccurs="0"/>'
            "</xsd:sequence></xsd:complexType></xsd:element>"
            "</xsd:sequence></xsd:complexType></xsd:element>",
        )
    )
    elements = "".join(_request_element(op) for op in OPERATIONS)
    return (
        f'<xsd:schema targetNamespace="{CENTRA_NS}" elementFormDefault="qualified">'
        f"{common}{elements}</xsd:schema>"
    )


def _response_element(operation: str) -> str:
    return "events_Get" if operation in ("events_Get", "events_GetByMarkets") else "result"


def _request_root(operation: str) -> str:
    return "events_GetRequest" if operation == "events_Get" else operation


def document(location: str) -> str:
    """The WSDL, with ``location`` as the service address."""
    messages = "".join(
        f'<wsdl:message name="{op}Request"><wsdl:part name="parameters" '
        f'element="tns:{_request_root(op)}"/></wsdl:message>'
        f'<wsdl:message name="{op}Response"><wsdl:part name="parameters" '
        f'element="tns:{_response_element(op)}"/></wsdl:message>'
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
        f"<wsdl:types>{_schema()}</wsdl:types>{messages}"
        f'<wsdl:portType name="CentraPortType">{port_ops}</wsdl:portType>'
        '<wsdl:binding name="CentraBinding" type="tns:CentraPortType">'
        '<soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
        f"{binding_ops}</wsdl:binding>"
        '<wsdl:service name="CentraService"><wsdl:port name="CentraPort" '
        f'binding="tns:CentraBinding"><soap:address location="{escape(location)}"/></wsdl:port>'
        "</wsdl:service></wsdl:definitions>\n"
    )
