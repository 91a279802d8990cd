"""The XML examples of Centra's ERP guide, read from the guide itself (../shared/)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree


def guide_path() -> Path:
    override = os.environ.get("CENTRA_GUIDE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "centra-erp-guide.md"


@dataclass(frozen=True)
class Example:
    section: str  # the "## ..." heading
    kind: str  # "request" or "response"
    index: int  # position among the section's blocks of this kind
    xml: str


def examples() -> list[Example]:
    """Every ```xml block under a ### Request or ### Response(s) heading, in guide order."""
    path = guide_path()
    if not path.exists():
        raise FileNotFoundError(
            f"Centra's guide is not at {path}: these tests read it from ../shared/ next to the "
            "project (or set CENTRA_GUIDE)"
        )
    text = path.read_text(encoding="utf-8")
    found: list[Example] = []
    section, kind = "", ""
    counts: dict[tuple[str, str], int] = {}
    for match in re.finditer(r"^(#{2,3}) (.+?)\s*$|^```xml\n(.*?)^```", text, re.M | re.S):
        level, heading, block = match.group(1), match.group(2), match.group(3)
        if level == "##":
            section, kind = heading.strip(), ""
        elif level == "###":
            head = heading.strip().lower()
            kind = (
                "request"
                if head == "request"
                else "response"
                if head.startswith("response")
                else ""
            )
        elif block is not None and kind:
            key = (section, kind)
            counts[key] = counts.get(key, -1) + 1
            found.append(Example(section, kind, counts[key], block))
    return found


def example(section: str, kind: str = "request", index: int = 0) -> str:
    for ex in examples():
        if ex.section == section and ex.kind == kind and ex.index == index:
            return ex.xml
    raise LookupError(f"no {kind} #{index} in guide section {section!r}")


def canonical(xml: str | bytes) -> str:
    """XML in canonical form: namespaces resolved, prefixes rewritten, whitespace text dropped."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(data.strip(), parser)
    for el in root.iter():
        if el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    return etree.canonicalize(
        etree.tostring(root, encoding="unicode"), strip_text=True, rewrite_prefixes=True
    )


#: The guide's direct-to-consumer order 30 (its "Event" example) as ``Sandbox.place_order``
#: arguments: a chair and a red sweater in S, shipping 12, order rows 80 and 81, and the
#: shipment Centra created for it automatically (8).
ORDER_30: dict[str, Any] = {
    "market": "Retail-Sweden",
    "pricelist": "EUR-Retail",
    "id": 30,
    "email": "someone@example.com",
    "address": {
        "firstname": "Example",
        "lastname": "Person",
        "address1": "Teststreet 123",
        "city": "Testcity",
        "zipcode": "12345",
        "country": "SE",
        "telephone": "123456789",
    },
    "shipping": "12",
    "shipment_id": "8",
    "lines": [
        {"product": "PWC", "variation": "PWC", "size": "OS", "qty": 1, "orderitem": 80},
        {"product": "T001", "variation": "T001_RED", "size": "S", "qty": 1, "orderitem": 81},
    ],
}

#: The guide's wholesale order 25 ("Event By Markets") for account 12345, pending, rows 67-71.
ORDER_25: dict[str, Any] = {
    "market": "Wholesale-Market",
    "pricelist": "USD-Wholesale",
    "id": 25,
    "account": "12345",
    "shipping": "123",
    "other": "The buyer can leave a message or special instructions here.",
    "ponumber": "Example1",
    "lines": [
        {"product": "PWC", "variation": "PWC", "size": "OS", "qty": 2, "orderitem": 67},
        {"product": "T001", "variation": "T001_BLUE", "size": "S", "qty": 1, "orderitem": 68},
        {"product": "T001", "variation": "T001_BLUE", "size": "M", "qty": 2, "orderitem": 69},
        {"product": "T001", "variation": "T001_RED", "size": "M", "qty": 3, "orderitem": 70},
        {"product": "T001", "variation": "T001_RED", "size": "L", "qty": 4, "orderitem": 71},
    ],
}
