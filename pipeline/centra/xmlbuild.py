"""Request bodies from plain Python data: the one way the pipeline writes Centra XML.

A *payload* is a mapping from element name to value, in document order (dicts keep insertion
order)::

    {"markets": {"market": [
        {"id": "Retail-Global", "store": "1", "type": "retail", "description": "Global"},
    ]}}

Values:

- ``str`` (or ``int``/``Decimal``): the element's text, escaped; ``""`` gives an empty element;
- ``None``: the element is left out (Centra keeps its value: partial update);
- a mapping: child elements;
- a list or tuple: the element repeated once per item (``{"event": ["115", "116"]}`` gives
  ``<event>115</event><event>116</event>``);
- :class:`RawXml`: an already serialised, trusted fragment inserted as is;
- :class:`Prerendered`: an item the bulk mapping path wrote already, inserted as is.

Everything is written in Centra's namespace by the default ``xmlns`` on the operation element,
exactly as the guide's examples do. Strings are built by hand, not through lxml: this is the hot
path of large imports and plain string building is several times faster (see the benchmarks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeGuard

CENTRA_NS = "http://www.centra.com/webservices/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"

# Characters that XML 1.0 does not allow, even escaped.
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Every byte but the control characters XML refuses (for :func:`has_invalid_xml_chars`).
_ALLOWED_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in b"\t\n\r")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def has_invalid_xml_chars(text: str | bytes) -> bool:
    """Whether ``text`` holds a character of :data:`INVALID_XML_CHARS`, for long texts (a
    whole column joined): several times faster than the regular expression. ``text`` may be
    given encoded already (UTF-8, ``surrogatepass``).

    In UTF-8 a byte below 0x20 is always that control character, and U+FFFE and U+FFFF are
    the only characters that encode as EF BF BE and EF BF BF.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return bool(data.translate(None, _ALLOWED_BYTES)) or (
        b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data
    )


def has_markup_chars(text: str) -> bool:
    """Whether ``text`` holds ``&``, ``<`` or ``>`` (one fast search each, no regex)."""
    return "&" in text or "<" in text or ">" in text


class RawXml(str):
    """A trusted, already serialised XML fragment (no escaping is applied)."""

    __slots__ = ()


class Prerendered(Mapping[str, Any]):
    """A collection item whose XML is written already (the bulk mapping path).

    ``xml`` is the whole element (``<product>...</product>``), written with the same rules as
    :func:`fragment`. It still reads as the mapping it stands for: ``head`` answers for the
    item's own text elements (``item["id"]``) and anything else builds the full mapping once,
    with ``build``.
    """

    __slots__ = ("_build", "_data", "_xml", "element", "head")

    def __init__(
        self,
        xml: str,
        element: str,
        head: dict[str, Any],
        build: Callable[[], dict[str, Any]],
    ) -> None:
        self._xml = xml
        self.element = element
        self.head = head
        self._build: Callable[[], dict[str, Any]] | None = build
        self._data: dict[str, Any] | None = None

    @property
    def xml(self) -> str:
        return self._xml

    def as_dict(self) -> dict[str, Any]:
        if self._data is None:
            assert self._build is not None
            self._data = self._build()
            self._build = None
        return self._data

    def __getitem__(self, key: str) -> Any:
        if key in self.head:
            return self.head[key]
        return self.as_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.xml[:80]!r}...)"


#: Per class, whether it is a Prerendered (an ABC's isinstance costs more than the lookup).
_PRERENDERED_CLASSES: dict[type, bool] = {}


def is_prerendered(value: Any) -> TypeGuard[Prerendered]:
    """``isinstance(value, Prerendered)``, fast for the millions of items of a catalogue."""
    cls = value.__class__
    found = _PRERENDERED_CLASSES.get(cls)
    if found is None:
        found = _PRERENDERED_CLASSES[cls] = issubclass(cls, Prerendered)
    return found


class PayloadError(ValueError):
    """The payload cannot be written as XML (bad element name, invalid character, bad type)."""


def escape_text(text: str) -> str:
    """Escape ``text`` for an XML element; refuse characters XML 1.0 cannot carry."""
    bad = INVALID_XML_CHARS.search(text)
    if bad:
        raise PayloadError(
            f"text contains the control character U+{ord(bad.group()):04X}, which XML cannot carry"
        )
    return text.translate(_ESCAPE)


#: Anything in a text that needs escaping or refusing; most texts have none of it.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Element names already checked against _NAME (payload keys come from a small vocabulary).
_CHECKED_NAMES: set[str] = set()
_CHECKED_LIMIT = 10_000


def _check_name(name: str) -> None:
    if name in _CHECKED_NAMES:
        return
    if not isinstance(name, str) or not _NAME.match(name):
        raise PayloadError(f"{name!r} is not a valid element name")
    if len(_CHECKED_NAMES) < _CHECKED_LIMIT:
        _CHECKED_NAMES.add(name)


def _write(name: str, value: Any, out: list[str]) -> None:
    # The common types first, tested by exact class: this is the hot path of large imports.
    cls = value.__class__
    if cls is str:
        _check_name(name)
        if not value:
            out.append(f"<{name}/>")
        elif _SPECIAL.search(value) is None:
            out.append(f"<{name}>{value}</{name}>")
        else:
            out.append(f"<{name}>{escape_text(value)}</{name}>")
        return
    if cls is dict:
        _write_mapping(name, value, out)
        return
    if cls is list:
        for item in value:
            _write(name, item, out)
        return
    if value is None:
        return
    if is_prerendered(value) and value.element == name:
        out.append(value.xml)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _write(name, item, out)
        return
    _check_name(name)
    if isinstance(value, RawXml):
        out.append(f"<{name}>{value}</{name}>")
    elif isinstance(value, str):
        out.append(f"<{name}>{escape_text(value)}</{name}>" if value else f"<{name}/>")
    elif isinstance(value, Mapping):
        _write_mapping(name, value, out)
    elif isinstance(value, bool):
        raise PayloadError(
            f"<{name}>: write booleans as the text Centra expects (yes/no, true/false)"
        )
    elif isinstance(value, (int, Decimal)):
        out.append(f"<{name}>{value}</{name}>")
    else:
        raise PayloadError(f"<{name}>: cannot write a value of type {type(value).__name__}")


def _write_mapping(name: str, value: Mapping[str, Any], out: list[str]) -> None:
    _check_name(name)
    if not value:
        out.append(f"<{name}/>")
        return
    out.append(f"<{name}>")
    for key, child in value.items():
        _write(key, child, out)
    out.append(f"</{name}>")


def fragment(payload: Mapping[str, Any]) -> str:
    """Serialise a payload (a mapping of elements) without any wrapper."""
    out: list[str] = []
    for key, value in payload.items():
        _write(key, value, out)
    return "".join(out)


def envelope(
    root: str, login: Mapping[str, str], payload: Mapping[str, Any] | Sequence[Any]
) -> str:
    """The full SOAP 1.1 request document for one operation.

    ``root`` is the operation element (``events_GetRequest`` for events_Get); ``login`` comes
    first, as in every example of Centra's guide.
    """
    body = fragment({"login": login}) + fragment(payload)  # type: ignore[arg-type]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body>'
        f'<{root} xmlns="{CENTRA_NS}">{body}</{root}>'
        "</soap:Body></soap:Envelope>"
    )
