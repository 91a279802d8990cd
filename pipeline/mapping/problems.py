"""Row problems: :class:`~pipeline.errors.RowError` with the sheet and the object it concerns."""

from __future__ import annotations

from pipeline.errors import RowError, shorten

#: A problem's message is cut to this many characters (values in it are cut shorter still).
MAX_MESSAGE = 1_000


class RowProblem(RowError):
    """A row (or cell) that cannot be sent, as the person fixing the file needs to see it.

    ``str()`` gives ``file, row N, column 'X': message (value '...')``; for Excel the file part
    reads ``file, sheet 'S'``. ``source`` is the bare file name, ``entity``/``key`` the object
    the row belongs to when known, ``collateral`` marks a row that is fine itself but is not
    sent because another row of the same object failed. ``value`` is the cell cut to
    :data:`~pipeline.errors.MAX_ECHO` characters ending in "…" (a cell can hold megabytes), the
    message to :data:`MAX_MESSAGE`.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        hint: str | None = None,
        sheet: str | None = None,
        entity: str | None = None,
        key: str | None = None,
        collateral: bool = False,
    ) -> None:
        self.source = file
        self.sheet = sheet
        self.entity = entity
        self.key = key
        self.collateral = collateral
        where = f"{file}, sheet {shorten(sheet)!r}" if sheet is not None else file
        super().__init__(
            shorten(message, MAX_MESSAGE),
            file=where,
            row=row,
            column=column,
            value=None if value is None else shorten(value),
            hint=hint,
        )
