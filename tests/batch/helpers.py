"""Reading the sandbox's state and the pipeline's reports in batch-run tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from lxml import etree


def export_tree(sandbox: Any, entity: str) -> etree._Element:
    """The sandbox's ``export ENTITY`` document, namespaces stripped for simple XPath."""
    root = etree.fromstring(sandbox.export(entity).encode())
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    etree.cleanup_namespaces(root)
    return root


def texts(root: etree._Element, xpath: str) -> list[str]:
    return [(t or "").strip() for t in root.xpath(xpath)]


def report_rows(path: str | Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))


def operations(sandbox: Any) -> list[str]:
    return [r["operation"] for r in sandbox.requests(10_000)]


def articles_csv(rows: list[dict[str, str]]) -> bytes:
    """An articles file in the sample's format (cp1252, semicolons, decimal commas)."""
    header = [
        "Article",
        "Status",
        "Style no",
        "Name",
        "Folder",
        "Brand id",
        "Brand",
        "Collection id",
        "Collection",
        "Variant",
        "Variant name",
        "Variant no",
        "Variant status",
        "Size table",
        "Size",
        "Size no",
        "EAN",
        "EUR retail",
        "USD wholesale",
        "USD RRP",
        "Stock main",
        "Stock other",
    ]
    lines = [";".join(header)]
    for row in rows:
        lines.append(";".join(row.get(h, "") for h in header))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def product_rows(
    article: str, sizetable: str = "SML", sizes: tuple[str, ...] = ("S", "M", "L")
) -> list[dict[str, str]]:
    return [
        {
            "Article": article,
            "Status": "active",
            "Name": f"Product {article}",
            "Variant": f"{article}_V",
            "Variant name": "Standard",
            "Variant status": "active",
            "Size table": sizetable,
            "Size": size,
            "EUR retail": "10,50",
            "Stock main": "5",
        }
        for size in sizes
    ]
