"""Checks made before a file is read: a hostile file is refused at a cost that does not grow
with it, and with a short message.

- Workbooks that would unpack to far more than they weigh (zip bombs) are refused without being
  unpacked.
- A text file is refused on its first bytes (at most :data:`MAX_HEADER_BYTES`, never the whole
  file) when they hold NUL bytes, which no text export has (a binary file, or UTF-16 without a
  byte order mark), or when its header row has more than :data:`MAX_COLUMNS` columns or does
  not end within them.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

from pipeline.errors import ReadError, shorten
from pipeline.readers.table import ReadOptions
from pipeline.readers.text import DELIMITERS, count_outside_quotes

#: A header row may have at most this many columns: Excel's own limit (column XFD), so every
#: sheet a person can open fits.
MAX_COLUMNS = 16_384
#: The rows up to and including the header row must end within this many bytes.
MAX_HEADER_BYTES = 4 * 1024 * 1024
#: NUL bytes are counted in this first block of the file...
NUL_BLOCK = 64 * 1024
#: ...where a few (a stray one in a cell: that cell's problem) are let through, more are not.
MAX_NULS = 64

#: A workbook may unpack to at most this many bytes...
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
#: ...and each part to at most this many times its compressed size (real sheets: 5-30x).
MAX_RATIO = 200


def check_workbook(path: Path) -> None:
    """Raise ReadError if the .xlsx is not a zip or would unpack suspiciously large."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(
            f"not a readable Excel workbook ({shorten(str(exc), 300)})",
            file=path.name,
            hint="open it in Excel and save it again as .xlsx",
        ) from exc
    total = sum(info.file_size for info in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    ratio = worst.file_size / max(worst.compress_size, 1) if worst else 0
    if total > MAX_UNPACKED_BYTES or (
        worst is not None and worst.file_size > 10_000_000 and ratio > MAX_RATIO
    ):
        raise ReadError(
            f"the workbook would unpack to {total / 1e6:,.0f} MB (a part is compressed "
            f"{ratio:,.0f} to 1): refused as a possible zip bomb, nothing was unpacked",
            file=path.name,
            hint="export the data again from the ERP; a real workbook of this size unpacks to "
            "far less",
        )


_LINE_END = re.compile(r"\r\n?|\n")


def check_text(path: Path, options: ReadOptions) -> None:
    """Raise ReadError if the start of the text file shows it cannot be a usable export.

    Reads the first :data:`NUL_BLOCK` bytes, and more (up to :data:`MAX_HEADER_BYTES` in all)
    only while the header row goes on: never the whole of a large file.
    """
    file = path.name
    try:
        with path.open("rb") as fh:
            prefix = fh.read(NUL_BLOCK)
            whole = len(prefix) < NUL_BLOCK
            text = _prefix_text(prefix, options.encoding)
            if text is None:
                return  # an unknown encoding: the reader says so
            nuls = text.count("\0")
            start, end = _header_line(text, options.header_row)
            if end is None and not whole and nuls <= MAX_NULS:
                prefix += fh.read(MAX_HEADER_BYTES + 1 - NUL_BLOCK)
                whole = len(prefix) <= MAX_HEADER_BYTES
                text = _prefix_text(prefix, options.encoding) or ""
                start, end = _header_line(text, options.header_row)
    except OSError:
        return  # the reader says why it cannot be opened
    if nuls > MAX_NULS or text.find("\0", 0, len(text) if end is None else end) >= 0:
        where = f"{nuls:,} in its first {NUL_BLOCK // 1024} KB" if nuls else "in its header row"
        raise ReadError(
            f"the file contains NUL bytes ({where}): it is not a text export (a binary file, or "
            "UTF-16 without a byte order mark?)",
            file=file,
            hint="export the data from the ERP again as CSV text; if it is UTF-16 without a byte "
            "order mark, set `encoding: utf-16-le` (or utf-16-be) under `read:` in the mapping",
        )
    if start is None:
        if whole:
            return  # fewer lines than header_row: the reader says so
        start = len(text)
    line = text[start : len(text) if end is None else end]
    # The given delimiter, else the one that splits the header most: an upper bound is enough.
    delimiter = options.delimiter or max(DELIMITERS, key=line.count)
    columns = line.count(delimiter) + 1 if line else 0
    if columns > MAX_COLUMNS and '"' in line:
        columns = count_outside_quotes(line, delimiter) + 1
    complete = end is not None or whole
    if columns > MAX_COLUMNS or not complete:
        raise too_wide(
            file,
            "the header row",
            columns,
            line=options.header_row,
            within=None if complete else MAX_HEADER_BYTES,
            hint="check that this is the right file and that read.delimiter is right; export "
            "only the columns the mapping reads",
        )


def too_wide(
    file: str,
    what: str,
    columns: int,
    *,
    hint: str,
    line: int | None = None,
    within: int | None = None,
) -> ReadError:
    """The error for a header (or sheet) wider than :data:`MAX_COLUMNS`; ``within``: the
    bytes the columns were counted in, when the header row does not end there."""
    if within is None:
        problem = f"{what} has {columns:,} columns; at most {MAX_COLUMNS:,} are read"
    elif columns <= MAX_COLUMNS:
        problem = f"{what} does not end within the first {within // 2**20} MB of the file"
    else:
        problem = (
            f"{what} has more than {MAX_COLUMNS:,} columns, the most that are read ({columns:,} "
            f"in the first {within // 2**20} MB of the file alone)"
        )
    return ReadError(problem, file=file, line=line, hint=hint)


def _prefix_text(prefix: bytes, encoding: str | None) -> str | None:
    """The first bytes as text, enough to find lines and delimiters (a character cut at the
    end is replaced, not an error); None for an unknown encoding."""
    if encoding is None:
        if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            return prefix.decode("latin-1")  # line breaks and delimiters are ASCII
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None
    if "a;\n".encode(encoding) == b"a;\n":
        return prefix.decode("latin-1")
    try:
        return prefix.decode(encoding, errors="replace")
    except UnicodeError:  # (UTF-32 without a byte order mark, say): the reader says why
        return None


def _header_line(text: str, header_row: int) -> tuple[int | None, int | None]:
    """(start, end) of the header row in ``text``; None where it is not in ``text``."""
    start = 0
    ends = _LINE_END.finditer(text)
    for _ in range(header_row - 1):
        match = next(ends, None)
        if match is None:
            return None, None
        start = match.end()
    match = next(ends, None)
    return start, None if match is None else match.start()
