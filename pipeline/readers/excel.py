"""Excel workbooks (.xlsx, .xlsm): every cell as the text a person sees in Excel.

Values come from python-calamine, which reads a 60,000-row sheet about ten times faster than
openpyxl's read-only mode (see docs/mappings.md). calamine gives typed values but says nothing
about three things that change what a person sees, so a cheap scan of the sheet's XML adds them,
and only when the sheet contains them at all (a plain bytes search decides):

- a formula with no cached value (never computed, e.g. written by a script): an error for that
  cell, since its value is unknown;
- an Excel error value (``#N/A``, ``#DIV/0!``): an error for that cell;
- a number shown with leading zeros by a format such as ``00000``: the zeros are kept.

Numbers are written without ``.0`` and without exponent (an EAN stored as a number comes out as
all its digits); dates as ``date_format``/``datetime_format``; booleans as ``TRUE``/``FALSE``.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import python_calamine

from pipeline.errors import ReadError, listed, shorten
from pipeline.readers.safety import MAX_COLUMNS, too_wide
from pipeline.readers.table import ReadOptions, Table, build_table

EXCEL_SUFFIXES = (".xlsx", ".xlsm")

_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_STYLE_ATTR = re.compile(rb'\bs="(\d+)"')
_TYPE_ATTR = re.compile(rb'\bt="(\w+)"')
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_FORMULA = re.compile(rb"<f[^>]*?(?:/>|>(.*?)</f>)", re.S)


def read_excel(path: Path, options: ReadOptions) -> Table:
    """Read one sheet of an .xlsx/.xlsm workbook into a :class:`Table` of text cells."""
    file = path.name
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own and OS errors; translate them here
        raise ReadError(
            f"cannot be opened as an Excel workbook: {shorten(str(exc), 300)}",
            file=file,
            hint="save it again from Excel as .xlsx, or export it as CSV",
        ) from exc
    try:
        names = list(workbook.sheet_names)
        sheet_name = _pick_sheet(names, options.sheet, file)
        try:
            sheet = workbook.get_sheet_by_name(sheet_name)
        except Exception as exc:
            raise ReadError(
                f"sheet {shorten(sheet_name)!r} cannot be read: {shorten(str(exc), 300)}",
                file=file,
            ) from exc
        if sheet.width > MAX_COLUMNS:  # wider than Excel allows: refused before the cells
            raise too_wide(
                file,
                f"sheet {shorten(sheet_name)!r}",
                sheet.width,
                hint="Excel itself has no more columns: export the sheet again from the ERP, or "
                "open it in Excel and save it again",
            )
        try:
            rows = sheet.to_python(skip_empty_area=False)
        except Exception as exc:
            raise ReadError(
                f"sheet {shorten(sheet_name)!r} cannot be read: {shorten(str(exc), 300)}",
                file=file,
            ) from exc
    finally:
        workbook.close()
    patches = _scan_sheet_xml(path, names.index(sheet_name))
    first = options.header_row - 1
    if not patches:
        table = _plain_table(file, rows[first:], options, sheet_name)
        if table is not None:
            table.sheets = names
            return table
    records: list[list[str]] = []
    cell_errors: dict[tuple[int, int], str] = {}
    for r in range(first, len(rows)):
        records.append([_text(v, options) for v in rows[r]])
    for (r, c), (kind, detail) in patches.items():
        index = r - first
        if index < 0 or index >= len(records):
            continue
        record = records[index]
        if kind == "pad":
            if c < len(record) and record[c].isdigit():
                record[c] = record[c].zfill(int(detail))
        else:
            while len(record) <= c:
                record.append("")
            cell_errors[(index, c)] = detail
            if not record[c]:
                record[c] = "?"  # keeps the row from looking empty
    while records and not any(records[-1]):
        records.pop()
    if not records:
        raise ReadError(
            f"sheet {shorten(sheet_name)!r} is empty: there is no header row",
            file=file,
            hint="check `sheet:` in the mapping (it names the sheet to read) and the ERP export",
        )
    table = build_table(
        file,
        records,
        first_row_number=options.header_row,
        options=options,
        sheet=sheet_name,
        cell_errors=cell_errors,
    )
    table.sheets = names
    return table


def _plain_table(
    file: str, rows: list[list[Any]], options: ReadOptions, sheet: str
) -> Table | None:
    """The common case, column by column: a rectangular sheet with nothing to patch and nothing
    right of the header. None when the sheet needs :func:`build_table`'s row-by-row care."""
    if len(rows) < 2 or len({len(r) for r in rows}) != 1:
        return None
    header = [h.strip() for h in (_text(v, options) for v in rows[0])]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    data = rows[1 + options.skip_rows :]
    if width == 0 or not data:
        return None
    columns: list[list[str]] = []
    for c, cells in enumerate(zip(*data, strict=True)):
        # Most cells are already text; only the others go through _text.
        texts = [v if v.__class__ is str else _text(v, options) for v in cells]
        if c >= width:
            if any(texts):
                return None  # values right of the header: build_table reports those rows
            continue
        columns.append(texts)
    # An empty row is empty in the first column too: only those rows need a closer look.
    empty = [i for i, t in enumerate(columns[0]) if not t]
    if empty:
        empty = [i for i in empty if not any(col[i] for col in columns)]
    start = options.header_row + 1 + options.skip_rows
    numbers = list(range(start, start + len(data)))
    if empty:
        drop = set(empty)
        keep = [i for i in range(len(data)) if i not in drop]
        numbers = [numbers[i] for i in keep]
        columns = [[col[i] for i in keep] for col in columns]
    return Table(
        file=file,
        header=header[:width],
        columns=list(columns),
        row_numbers=numbers,
        sheet=sheet,
        header_line=options.header_row,
    )


def _pick_sheet(names: list[str], wanted: str | int | None, file: str) -> str:
    if wanted is None:
        if not names:
            raise ReadError("the workbook has no sheets", file=file)
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        raise ReadError(
            f"there is no sheet number {wanted} (0-based); the workbook has {len(names)}: "
            + listed(names),
            file=file,
            hint=_SHEET_HINT,
        )
    if wanted in names:
        return wanted
    folded = {n.casefold(): n for n in names}
    if wanted.casefold() in folded:
        return folded[wanted.casefold()]
    raise ReadError(
        f"there is no sheet {wanted!r}; the workbook has: " + listed(names),
        file=file,
        hint=_SHEET_HINT,
    )


#: What to do when the sheet a mapping names is not in the workbook.
_SHEET_HINT = (
    "set `sheet:` in the mapping to one of these sheets (its name, or its 0-based number), "
    "or leave `sheet:` out to read the first sheet"
)


def _text(value: Any, options: ReadOptions) -> str:
    """The text a person sees in the cell (General format)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = f"{value:.15g}"
        if "e" in text:
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime(options.date_format)
        return value.strftime(options.datetime_format)
    if isinstance(value, dt.date):
        return value.strftime(options.date_format)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return "" if value is None else str(value)


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def _scan_sheet_xml(path: Path, sheet_index: int) -> dict[tuple[int, int], tuple[str, str]]:
    """Cells calamine cannot describe.

    Returns (0-based row, col) -> ("error", message) or ("pad", width).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            sheet_path = _sheet_part(archive, sheet_index)
            if sheet_path is None:
                return {}
            data = archive.read(sheet_path)
            padded = _zero_padded_styles(archive) if b' s="' in data else {}
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}
    has_formula = b"<f" in data
    has_error = b't="e"' in data
    if not (has_formula or has_error or padded):
        return {}
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for match in _CELL.finditer(data):
        attrs, inner = match.group(3), match.group(4) or b""
        row, col = int(match.group(2)) - 1, _column_index(match.group(1))
        type_match = _TYPE_ATTR.search(attrs)
        cell_type = type_match.group(1) if type_match else b"n"
        value_match = _VALUE.search(inner)
        formula = _FORMULA.search(inner) if has_formula else None
        uncomputed = value_match is None or not value_match.group(1)
        # A formula whose result is an empty string is computed: t="str" with an empty <v>.
        if formula is not None and uncomputed and cell_type != b"str":
            text = (formula.group(1) or b"").decode("utf-8", "replace")
            found[(row, col)] = (
                "error",
                f"the formula ={shorten(_unescape(text))} has no computed value "
                "(open the file in Excel and save it, or export values only)",
            )
            continue
        if cell_type == b"e":
            shown = value_match.group(1).decode("utf-8", "replace") if value_match else "#ERROR"
            found[(row, col)] = ("error", f"the cell shows the Excel error {shorten(shown)}")
            continue
        if padded and cell_type == b"n":
            style = _STYLE_ATTR.search(attrs)
            if style is not None and int(style.group(1)) in padded:
                found[(row, col)] = ("pad", str(padded[int(style.group(1))]))
    return found


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def _sheet_part(archive: zipfile.ZipFile, sheet_index: int) -> str | None:
    workbook = archive.read("xl/workbook.xml")
    sheets = re.findall(rb"<sheet\b[^>]*>", workbook)
    if sheet_index >= len(sheets):
        return None
    rel = re.search(rb'r:id="([^"]+)"', sheets[sheet_index]) or re.search(
        rb'\bid="([^"]+)"', sheets[sheet_index]
    )
    if rel is None:
        return None
    rels = archive.read("xl/_rels/workbook.xml.rels")
    for entry in re.findall(rb"<Relationship\b[^>]*>", rels):
        if re.search(rb'\bId="' + re.escape(rel.group(1)) + rb'"', entry):
            target = re.search(rb'Target="([^"]+)"', entry)
            if target is None:
                return None
            name = target.group(1).decode()
            if name.startswith("/"):
                return name.lstrip("/")
            return str(PurePosixPath("xl") / name)
    return None


def _zero_padded_styles(archive: zipfile.ZipFile) -> dict[int, int]:
    """Style index -> width for cell styles whose number format is all zeros (``00000``)."""
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return {}
    formats: dict[int, int] = {}
    for num_id, code in re.findall(rb'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles):
        plain = code.replace(b"&quot;", b"").replace(b'"', b"")
        if re.fullmatch(rb"0{2,}", plain):
            formats[int(num_id)] = len(plain)
    if not formats:
        return {}
    xfs = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    if xfs is None:
        return {}
    padded: dict[int, int] = {}
    for index, xf in enumerate(re.findall(rb"<xf\b[^>]*>", xfs.group(1))):
        num = re.search(rb'numFmtId="(\d+)"', xf)
        if num is not None and int(num.group(1)) in formats:
            padded[index] = formats[int(num.group(1))]
    return padded
