"""Table downloads for the pages. The builders live one floor down in metrics.export, so
the command line (which must not import ui/) writes the same files; this module keeps
the pages' import path, and adds what only a page needs: a download whose audit row could
not be written is refused, and the user receives a file that says so."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import xlsxwriter

from metrics.export import (
    NUMERIC_KINDS,
    SHEET_NAME,
    ColumnSpec,
    Kind,
    decimals_of,
    excel_format,
    export_file_name,
    slugify,
    to_csv,
    to_xlsx,
    typed,
)

__all__ = [
    "NUMERIC_KINDS",
    "REFUSED_TEXT",
    "ColumnSpec",
    "DownloadRefused",
    "Kind",
    "decimals_of",
    "excel_format",
    "export_file_name",
    "or_refusal",
    "refusal_csv",
    "refusal_xlsx",
    "refusal_zip",
    "slugify",
    "to_csv",
    "to_xlsx",
    "typed",
]

# --- a download whose audit row could not be written ----------------------------------------

REFUSED_TEXT = (
    "Download afvist: revisionsloggen kunne ikke skrives, så filen med sagsdata er ikke udleveret. "
    "Prøv igen senere, eller kontakt IT-support."
)


class DownloadRefused(RuntimeError):
    """Raised by a deferred download's data function when its audit row cannot be written."""


def refusal_xlsx() -> bytes:
    """An Excel file that says the download was refused (and holds nothing else)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet(SHEET_NAME).write_string(0, 0, REFUSED_TEXT)
    wb.close()
    return buf.getvalue()


def refusal_zip() -> bytes:
    """A zip file (the meeting pack's kind) holding only a note that the download was refused."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("download_afvist.txt", REFUSED_TEXT + "\r\n")
    return buf.getvalue()


def refusal_csv() -> bytes:
    return ("\ufeff" + REFUSED_TEXT + "\r\n").encode("utf-8")


def or_refusal(make: Callable[[], bytes | str], refusal: Callable[[], bytes]) -> Callable[[], bytes | str]:
    """`make`, or the refusal file if making it was refused (the user is told, not left waiting)."""

    def data() -> bytes | str:
        try:
            return make()
        except DownloadRefused:
            return refusal()

    return data
