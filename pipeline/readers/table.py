"""What every reader returns: a table of text cells, column by column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.errors import ReadError, shorten


@dataclass(frozen=True)
class ReadOptions:
    """How to read one input file (the ``read:`` section of a mapping).

    ``None`` means "detect": the encoding from a BOM or by trying UTF-8 then cp1252, the
    delimiter by sniffing the first lines. Row numbers are as a spreadsheet shows them:
    ``header_row`` is the row holding the column names (1 = the first row) and ``skip_rows``
    data rows right after the header are skipped (a units or description row, say).
    """

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str = '"'
    header_row: int = 1
    skip_rows: int = 0
    #: Excel only: the sheet by name, or by 0-based index; None = the first sheet.
    sheet: str | int | None = None
    #: Excel only: how date and date-time cells are written as text.
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"


@dataclass
class Table:
    """Data rows of one file or sheet as text, column-major.

    ``columns[c][i]`` is the text of column ``c`` in data row ``i``; every cell is a ``str``
    (an empty cell is ``""``; nothing is NaN). ``row_numbers[i]`` is that row's number as a
    spreadsheet or a text editor shows it. Rows where every cell is empty are left out.
    ``cell_errors`` holds cells that have no usable text (an Excel formula that was never
    computed, an Excel error value); ``row_errors`` rows that cannot be used at all (more
    values than the header has columns; in a text file also fewer).
    """

    file: str
    header: list[str]
    columns: list[Sequence[str]]
    row_numbers: list[int]
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int = 1
    cell_errors: dict[tuple[int, int], str] = field(default_factory=dict)
    row_errors: dict[int, str] = field(default_factory=dict)
    #: Excel: every sheet of the workbook, in order (for hints); empty for a text file.
    sheets: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.row_numbers)

    @property
    def where(self) -> str:
        """The file (and sheet) as problem messages name it."""
        if self.sheet is None:
            return self.file
        return f"{self.file}, sheet {shorten(self.sheet)!r}"

    def positions(self, name: str) -> list[int]:
        """Every column index whose header is ``name`` (more than one: a duplicate header)."""
        return [i for i, h in enumerate(self.header) if h == name]


def short_row(line: int, cells: int, width: int) -> str:
    """The row error of a text record with fewer cells than the header has columns."""
    return f"line {line} has {cells} cell{'s' if cells != 1 else ''}, the header has {width}"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def build_table(
    file: str,
    records: list[list[str]],
    *,
    first_row_number: int,
    options: ReadOptions,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    cell_errors: dict[tuple[int, int], str] | None = None,
    lines: Sequence[int] | None = None,
) -> Table:
    """Turn records (header first, row-major, possibly ragged) into a :class:`Table`.

    ``first_row_number`` is the spreadsheet row number of ``records[0]`` (the header);
    ``cell_errors`` is keyed by (record index, column index) and re-keyed to data rows here.
    ``lines`` (text files) is the physical line each record starts on: a record with fewer
    cells than the header is then a row error naming that line. Without it (a sheet, where
    trailing empty cells are simply not stored) a short record is padded with empty cells.
    """
    if not records:
        raise ReadError(
            "the file is empty: there is no header row",
            file=file,
            hint="check the ERP export; a file with only a header row is fine, an empty one is not",
        )
    header = [h.strip() for h in records[0]]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    if width == 0:
        raise ReadError(
            f"the header row (row {first_row_number}) is empty",
            file=file,
            line=first_row_number,
            hint="set read.header_row in the mapping to the row that holds the column names",
        )
    data_start = 1 + options.skip_rows
    numbers: list[int] = []
    kept: list[list[str]] = []
    row_errors: dict[int, str] = {}
    errors_by_record = cell_errors or {}
    new_cell_errors: dict[tuple[int, int], str] = {}
    for index in range(data_start, len(records)):
        record = records[index]
        if len(record) != width:
            if len(record) > width:
                extra = record[width:]
                if any(v.strip() for v in extra):
                    row_errors[len(kept)] = (
                        f"the row has {len(record)} values but the header has {width} columns"
                    )
                record = record[:width]
            else:
                cells = len(record)
                record = record + [""] * (width - cells)
                if lines is not None and any(record):
                    row_errors[len(kept)] = short_row(lines[index], cells, width)
        if not any(record):
            continue
        if errors_by_record:
            for c in range(width):
                msg = errors_by_record.get((index, c))
                if msg is not None:
                    new_cell_errors[(len(kept), c)] = msg
        numbers.append(first_row_number + index)
        kept.append(record)
    columns: list[Sequence[str]] = (
        [list(col) for col in zip(*kept, strict=True)] if kept else [[] for _ in header]
    )
    return Table(
        file=file,
        header=header,
        columns=columns,
        row_numbers=numbers,
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
        header_line=first_row_number,
        cell_errors=new_cell_errors,
        row_errors=row_errors,
    )
