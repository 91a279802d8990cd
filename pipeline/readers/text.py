"""CSV, TSV and TXT files: encoding and delimiter detection, every cell as text.

pandas' C parser does the splitting (quotes, embedded newlines, CRLF) with every cell read as
``str`` and no NA detection, so ``NA``, ``NULL`` and ``00123`` survive unchanged. A file with
more values on a row than its header has columns (ragged rows), or that ends inside a quoted
field, is read again with the standard library's csv module, which can say which rows are
ragged and on which line each starts.

pandas pads a row with fewer cells than the header with empty ones, as if the cells were
there. Only a row whose last cell is empty can be such a row: the raw lines of those rows
alone are looked at (a delimiter count each), so a file whose last column is filled costs
nothing more.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import ReadError, shorten
from pipeline.memory import collector_paused
from pipeline.readers.table import ReadOptions, Table, build_table, short_row

#: Delimiters tried when none is given, in order of preference on a tie.
DELIMITERS = (";", ",", "\t", "|")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, encoding: str | None, file: str) -> tuple[str, str]:
    """Decode ``data``; return (text, encoding used).

    Without an explicit encoding: a BOM decides; otherwise UTF-8 if the bytes are valid UTF-8,
    else cp1252 (Excel's "CSV" on Windows), else latin-1 (which decodes anything).
    """
    if encoding is None:
        for bom, name in _BOMS:
            if data.startswith(bom):
                return _decode_strict(data, name, file), name
        for name in ("utf-8", "cp1252"):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                continue
        return data.decode("latin-1"), "latin-1"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ReadError(
            f"unknown encoding {encoding!r}",
            file=file,
            hint="use one of utf-8, utf-8-sig, cp1252, latin-1, utf-16 in read.encoding",
        ) from None
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    return _decode_strict(data, encoding, file), encoding


def _decode_strict(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex().upper()
        other = "cp1252" if "utf" in encoding.lower() else "utf-8"
        raise ReadError(
            f"cannot be read as {encoding}: byte 0x{bad} is not valid there",
            file=file,
            line=line,
            hint=f"set `encoding: {other}` under `read:` in the mapping "
            "(Excel on Windows writes cp1252)",
        ) from exc


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines most consistently (quotes ignored)."""
    lines = [ln for ln in text[:65536].splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        counts = [count_outside_quotes(ln, delim) for ln in lines]
        first = counts[0]
        if first == 0:
            continue
        consistent = sum(1 for c in counts if c == first)
        score = (consistent, first)
        if score > best_score:
            best, best_score = delim, score
    return best


def count_outside_quotes(line: str, delim: str) -> int:
    """How often ``delim`` is in ``line`` outside double quotes."""
    if '"' not in line:
        return line.count(delim)
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            count += 1
    return count


def _bytes_as_is(data: bytes, encoding: str, file: str) -> bool:
    """Whether pandas can split ``data`` as bytes in ``encoding``: an encoding that writes
    ASCII as ASCII (not UTF-16), and no byte order mark to take off first."""
    decode(b"", encoding, file)  # an unknown encoding is a ReadError
    return "a;\n".encode(encoding) == b"a;\n" and not data.startswith(codecs.BOM_UTF8)


def _empty(file: str) -> ReadError:
    return ReadError(
        "the file is empty: there is no header row",
        file=file,
        hint="check the ERP export; a file with only a header row is fine, an empty one is not",
    )


def read_text(path: Path, options: ReadOptions) -> Table:
    """Read a delimited text file into a :class:`Table` of text cells."""
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"cannot open the file: {exc.strerror}", file=file) from exc
    skip = options.header_row - 1
    if (
        options.encoding is not None
        and options.delimiter
        and not skip
        and _bytes_as_is(data, options.encoding, file)
    ):
        # Encoding and delimiter are given: pandas decodes the bytes itself, and the text is
        # decoded here only to explain an error (decoding 100 MB twice costs a third of a second).
        encoding, delimiter = options.encoding, options.delimiter
        if not data or data.isspace():  # (strip() would copy the whole file)
            raise _empty(file)
        source: io.IOBase = io.BytesIO(data)
    else:
        text, encoding = decode(data, options.encoding, file)
        if text.startswith("\ufeff"):
            text = text[1:]
        if not text or text.isspace():
            raise _empty(file)
        body = text
        if skip:
            body = "".join(io.StringIO(text, newline="").readlines()[skip:])
        delimiter = options.delimiter or sniff_delimiter(body)
        # pandas reads the bytes itself when it can (the text is known to decode by now): a
        # text source would cost an extra copy of the file four bytes a character wide.
        source = io.StringIO(body, newline="") if skip else io.BytesIO(data)
        del text, body
    try:
        frame = pd.read_csv(
            source,
            encoding=encoding,
            sep=delimiter,
            quotechar=options.quotechar,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except UnicodeDecodeError:
        decode(data, encoding, file)  # raises the ReadError that names the line
        raise
    except UnicodeError as exc:  # pandas: "UTF-16 stream does not start with BOM"
        raise ReadError(
            f"cannot be read as {encoding}: {shorten(str(exc))}",
            file=file,
            hint="a UTF-16 file without a byte order mark needs `encoding: utf-16-le` (or "
            "utf-16-be) under `read:` in the mapping",
        ) from exc
    except pd.errors.EmptyDataError:
        return build_table(file, [], first_row_number=options.header_row, options=options)
    except pd.errors.ParserError:
        return _read_slow(file, _body(data, encoding, file, skip), delimiter, encoding, options)
    records_header = [str(v) for v in frame.iloc[0].tolist()] if len(frame) else []
    header = [h.strip() for h in records_header]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    data_frame = frame.iloc[1 + options.skip_rows :]
    extra = data_frame.iloc[:, width:]
    ragged = (extra != "").any(axis=1) if extra.shape[1] else None
    data_frame = data_frame.iloc[:, :width]
    filled = _filled_rows(data_frame)
    if not filled.all():
        data_frame = data_frame[filled]
    row_errors: dict[int, str] = {}
    if ragged is not None:
        ragged = ragged[filled]
        for i, flag in enumerate(ragged.tolist()):
            if flag:
                row_errors[i] = f"the row has more values than the header has columns ({width})"
    if width and len(data_frame):
        # A short row's missing cells arrive as empty ones: ask the raw lines of the rows
        # whose last cell is empty how many cells they really have.
        maybe = np.flatnonzero(data_frame.iloc[:, width - 1].to_numpy(dtype=object) == "")
        if len(maybe):
            records = data_frame.index.to_numpy(dtype=np.int64)[maybe]
            counted = _lines(data, encoding, delimiter, options.quotechar, skip)
            if counted is None or len(counted) != len(frame):
                # A record over several lines (or lines ended by a lone CR): the csv module
                # says which line each record starts on.
                body = _body(data, encoding, file, skip)
                return _read_slow(file, body, delimiter, encoding, options)
            cells = counted.cells(records)
            for i, r, n in zip(maybe.tolist(), records.tolist(), cells, strict=True):
                if n < width:
                    row_errors[i] = short_row(skip + r + 1, n, width)
    numbers = (data_frame.index.to_numpy(dtype=np.int64) + options.header_row).tolist()
    columns: list[Sequence[str]] = [data_frame[c].tolist() for c in data_frame.columns]
    if width == 0:
        raise ReadError(
            f"the header row (row {options.header_row}) is empty",
            file=file,
            line=options.header_row,
            hint="set read.header_row in the mapping to the row that holds the column names",
        )
    return Table(
        file=file,
        header=header[:width],
        columns=columns,
        row_numbers=numbers,
        encoding=encoding,
        delimiter=delimiter,
        header_line=options.header_row,
        row_errors=row_errors,
    )


def _filled_rows(frame: pd.DataFrame) -> np.ndarray:
    """Which rows have any non-empty cell (few rows are empty: test column by column, only
    the rows still empty)."""
    maybe_empty = np.arange(len(frame))
    for c in range(frame.shape[1]):
        if not len(maybe_empty):
            break
        column = frame.iloc[maybe_empty, c].to_numpy(dtype=object)
        maybe_empty = maybe_empty[column == ""]
    filled = np.ones(len(frame), dtype=bool)
    filled[maybe_empty] = False
    return filled


def _body(data: bytes, encoding: str, file: str, skip: int) -> str:
    """The text pandas was given: decoded, without a BOM and the rows above the header."""
    body, _ = decode(data, encoding, file)
    body = body.removeprefix("\ufeff")
    if skip:
        body = "".join(io.StringIO(body, newline="").readlines()[skip:])
    return body


class _Lines:
    """The raw lines of a file's bytes, found with numpy (no Python loop over the file)."""

    #: Bytes searched for line ends at a time (bounds the temporary array numpy makes).
    CHUNK = 1 << 24

    def __init__(self, data: bytes, delimiter: bytes, quote: bytes, first: int) -> None:
        self.data = data
        self.delimiter = delimiter
        self.quote = quote
        self.first = first  # the physical line (0-based) of record 0
        view = np.frombuffer(data, dtype=np.uint8)
        parts = [
            np.flatnonzero(view[start : start + self.CHUNK] == 10) + start
            for start in range(0, len(view), self.CHUNK)
        ]
        self.ends = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        """How many records pandas would see, if every record is one line."""
        lines = len(self.ends) + (0 if self.data.endswith(b"\n") else 1)
        return lines - self.first

    def cells(self, records: np.ndarray) -> list[int]:
        """How many cells the line of each of ``records`` holds (quotes respected)."""
        lines = records + self.first
        ends = np.append(self.ends, len(self.data))
        starts = np.where(lines > 0, ends[np.maximum(lines - 1, 0)] + 1, 0).tolist()
        stops = ends[lines].tolist()
        data, delimiter, quote = self.data, self.delimiter, self.quote
        counts = [data.count(delimiter, a, b) + 1 for a, b in zip(starts, stops, strict=True)]
        for n, (a, b) in enumerate(zip(starts, stops, strict=True)):
            if data.find(quote, a, b) >= 0:  # (a delimiter inside quotes is no cell border)
                text = data[a:b].removesuffix(b"\r").decode("latin-1")
                reader = csv.reader(
                    [text], delimiter=delimiter.decode("latin-1"), quotechar=quote.decode("latin-1")
                )
                counts[n] = len(next(reader, [""]))
        return counts


def _lines(data: bytes, encoding: str, delimiter: str, quotechar: str, skip: int) -> _Lines | None:
    """The raw lines of ``data`` for counting cells, or None when the encoding does not write
    the delimiter, the quote and line ends as the single ASCII bytes they are."""
    if not (delimiter.isascii() and quotechar.isascii()):
        return None
    sample = f"a{delimiter}{quotechar}\n"
    try:
        if not sample.encode(encoding).endswith(sample.encode("ascii")):  # (a BOM may lead)
            return None
    except UnicodeError:
        return None
    return _Lines(data, delimiter.encode("ascii"), quotechar.encode("ascii"), skip)


def _read_slow(file: str, body: str, delimiter: str, encoding: str, options: ReadOptions) -> Table:
    """Split ``body`` with the csv module, noting the line each record starts on."""
    skip = options.header_row - 1
    source = io.StringIO(body, newline="")
    reader = csv.reader(source, delimiter=delimiter, quotechar=options.quotechar)
    records: list[list[str]] = []
    lines: list[int] = []
    line, start = 0, 0  # lines and characters read before the record being read
    last = 0  # where the last record starts
    try:
        with collector_paused():  # a list per row, none in a cycle
            for record in reader:
                records.append(record)
                lines.append(skip + line + 1)
                last = start
                line, start = reader.line_num, source.tell()
    except csv.Error as exc:  # a field over the csv module's limit: an open quote, mostly
        _check_quotes(file, body, start, skip + line + 1, delimiter, options.quotechar)
        raise ReadError(
            f"cannot be split into columns: {shorten(str(exc), 300)}", file=file
        ) from exc
    if records:
        # A quote that is never closed takes the rest of the file into the last record.
        _check_quotes(file, body, last, lines[-1], delimiter, options.quotechar)
    return build_table(
        file,
        records,
        first_row_number=options.header_row,
        options=options,
        encoding=encoding,
        delimiter=delimiter,
        lines=lines,
    )


def _check_quotes(file: str, body: str, pos: int, line: int, delimiter: str, quote: str) -> None:
    """Raise a ReadError naming the line when a quoted field that starts in the records from
    ``pos`` (the start of a record on physical line ``line``) is never closed.

    The records are walked field by field as the csv module reads them: a quote opens a
    quoted field only at the start of a field; ``""`` inside is a quote; after the closing
    quote the field goes on to the next delimiter or line end.
    """
    q, d = re.escape(quote), re.escape(delimiter)
    closed = re.compile(f"{q}(?:[^{q}]++|{q}{q})*+{q}")
    rest = re.compile(f"[^{d}\r\n]*+")
    origin, end = pos, len(body)
    while pos < end:
        if body.startswith(quote, pos):
            found = closed.match(body, pos)
            if found is None:
                raise ReadError(
                    "a quoted field opened here is never closed, so the rest of the file "
                    "would be one cell",
                    file=file,
                    line=line + body.count("\n", origin, pos),
                    hint="close the quote, or double a quote that is part of the value "
                    '("" inside a quoted field); check how the ERP export quotes values',
                )
            pos = found.end()
        pos = rest.match(body, pos).end()  # type: ignore[union-attr]  # (it always matches)
        if pos < end and body[pos] == delimiter:
            pos += 1
        elif body.startswith("\r\n", pos):
            pos += 2
        else:
            pos += 1
