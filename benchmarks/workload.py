"""Generated workloads for the benchmarks: the article catalogue (CSV and xlsx) and its sizes.

    write_articles(path, products=100_000)   # products x 2 variants x 3 sizes, one row a size
    write_sizes(path)                        # the sizetable the articles use
    write_articles_xlsx(path, rows=60_000)   # the same columns as an Excel workbook

The articles file is in the format ``mappings/articles.yaml`` reads (cp1252, semicolons,
decimal commas): products, two pricelists and stock in two warehouses from one wide file.
EANs are 13 digits with a correct check digit, unique per size row.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline.readers.table import column_letter

HEADER = [
    "Article", "Status", "Style no", "Name", "Folder", "Brand id", "Brand", "Collection id",
    "Collection", "Variant", "Variant name", "Variant no", "Variant status", "Size table", "Size",
    "Size no", "EAN", "EUR retail", "USD wholesale", "USD RRP", "Stock main", "Stock other",
]  # fmt: skip
VARIANTS = (("RED", "Röd"), ("BLUE", "Blå"))
SIZES = (("S", "01"), ("M", "02"), ("L", "03"))
SIZETABLE = "SML"


def _check_digit(body: str) -> str:
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def article_rows(products: int, start: int = 0) -> Iterator[list[str]]:
    """One row per size: products x 2 variants x 3 sizes (product numbers from ``start``)."""
    for p in range(start, start + products):
        article = f"A{p:06d}"
        eur = 100 + p % 400
        usd = 40 + p % 150
        name = f"Sweater {p} Ständer"
        for v, (code, vname) in enumerate(VARIANTS):
            variant = f"{article}_{code}"
            for s, (size, size_no) in enumerate(SIZES):
                body = f"73{p:07d}{v}{s}0"
                yield [
                    article, "active", f"ST{p:06d}", name, "Sweaters / Wool", "EX",
                    "Example Brand", "AW26", "Autumn 26", variant, vname, code, "active",
                    SIZETABLE, size, size_no, body + _check_digit(body), f"{eur},{v * 5}0",
                    f"{usd},00", f"1.{eur:03d},00", str((p + s) % 40), str((p * 7 + v) % 25),
                ]  # fmt: skip


def write_articles(path: Path, products: int, start: int = 0) -> int:
    """The article catalogue as CSV; returns the number of data rows."""
    rows = 0
    with path.open("w", encoding="cp1252", newline="") as fh:
        fh.write(";".join(HEADER) + "\r\n")
        chunk: list[str] = []
        for row in article_rows(products, start):
            chunk.append(";".join(row))
            rows += 1
            if len(chunk) >= 10_000:
                fh.write("\r\n".join(chunk) + "\r\n")
                chunk = []
        if chunk:
            fh.write("\r\n".join(chunk) + "\r\n")
    return rows


def write_sizes(path: Path) -> None:
    lines = ["Size;Size name;Size table;Size table name"]
    lines += [f"{s};{s};{SIZETABLE};Small-Medium-Large" for s, _ in SIZES]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def write_articles_xlsx(path: Path, rows: int) -> None:
    """``rows`` article rows as an .xlsx workbook (shared strings; EAN, prices, stock numeric).

    Written directly as SpreadsheetML, as Excel stores it, because openpyxl takes longer to
    write such a sheet than the benchmark takes to read it.
    """
    strings: dict[str, int] = {}
    numeric = {"EAN", "Stock main", "Stock other"}
    letters = [column_letter(i) for i in range(len(HEADER))]

    def cell(ref: str, value: str, as_number: bool) -> str:
        if as_number:
            return f'<c r="{ref}"><v>{value}</v></c>'
        index = strings.setdefault(value, len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           "<sheetData>"]  # fmt: skip
    out.append('<row r="1">' + "".join(cell(f"{letters[c]}1", h, False)
                                       for c, h in enumerate(HEADER)) + "</row>")  # fmt: skip
    products = rows // 6 + 1
    for r, row in enumerate(article_rows(products), start=2):
        if r > rows + 1:
            break
        cells = "".join(
            cell(f"{letters[c]}{r}", v, HEADER[c] in numeric) for c, v in enumerate(row)
        )
        out.append(f'<row r="{r}">{cells}</row>')
    out.append("</sheetData></worksheet>")
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Articles" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>'
        ),
        "xl/worksheets/sheet1.xml": "".join(out),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                     "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml",
                     "xl/worksheets/sheet1.xml"):  # fmt: skip
            archive.writestr(name, parts[name])
