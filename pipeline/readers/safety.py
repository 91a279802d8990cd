"""Checks made before a file is opened by a reader: workbooks that would unpack to far more
than they weigh (zip bombs) are refused without being unpacked."""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipeline.errors import ReadError

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
            f"not a readable Excel workbook ({exc})",
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
