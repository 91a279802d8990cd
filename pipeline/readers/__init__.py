"""The door to input files: CSV/TSV/TXT and Excel, every cell delivered as text.

::

    from pipeline.readers import ReadOptions, read_table
    table = read_table(Path("inbox/articles.csv"), ReadOptions(delimiter=";"))
    table.header, table.columns[0][:3], table.row_numbers[:3]

openpyxl and python-calamine are imported here and nowhere else; every failure to read a file
becomes a :class:`pipeline.errors.ReadError` naming the file (and line or sheet).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ReadError
from pipeline.memory import collector_paused
from pipeline.readers.excel import EXCEL_SUFFIXES, read_excel
from pipeline.readers.safety import check_text, check_workbook
from pipeline.readers.table import ReadOptions, Table, column_letter
from pipeline.readers.text import read_text

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")

__all__ = ["EXCEL_SUFFIXES", "TEXT_SUFFIXES", "ReadOptions", "Table", "column_letter", "read_table"]


def read_table(path: Path, options: ReadOptions | None = None) -> Table:
    """Read ``path`` (chosen by its suffix) into a :class:`Table` of text cells."""
    options = options or ReadOptions()
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        check_workbook(path)
        with collector_paused():  # a cell list per row, none in a cycle
            return read_excel(path, options)
    if suffix in TEXT_SUFFIXES:
        if suffix == ".tsv" and options.delimiter is None:
            from dataclasses import replace

            options = replace(options, delimiter="\t")
        check_text(path, options)
        return read_text(path, options)
    raise ReadError(
        f"unsupported file type {path.suffix or '(none)'}",
        file=path.name,
        hint="export the file as .csv, .tsv, .txt, .xlsx or .xlsm",
    )
