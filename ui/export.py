"""Table downloads for the pages. The builders live one floor down in metrics.export, so
the command line (which must not import ui/) writes the same files; this module keeps
the pages' import path, and adds what only a page needs: a download whose audit row could
not be written is refused, and the user receives a file that says so."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime

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
from metrics.fmt import DASH, fmt_date, fmt_datetime, fmt_dkk, fmt_month, fmt_num, fmt_pct

__all__ = [
    "NUMERIC_KINDS",
    "REFUSED_TEXT",
    "ColumnSpec",
    "DownloadRefused",
    "Kind",
    "cell_text",
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


def cell_text(value: object, spec: ColumnSpec) -> str:
    """A cell as the pages show it: `1.234.567 kr.`, `87,5 %`, `14. jun. 2024`, `jan. 2021`, and
    "–" for a missing value. Dates may come as ISO strings (as the tables send them)."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return DASH
    if spec.kind == "dkk":
        return fmt_dkk(value)  # type: ignore[arg-type]
    if spec.kind == "pct":
        return fmt_pct(value, spec.decimals if spec.decimals is not None else 1)  # type: ignore[arg-type]
    if spec.kind in ("int", "num"):
        return fmt_num(value, decimals_of(spec))  # type: ignore[arg-type]
    if spec.kind in ("date", "month"):
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return fmt_date(day) if spec.kind == "date" else fmt_month(day)  # type: ignore[arg-type]
    if spec.kind == "datetime":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return fmt_datetime(moment)  # type: ignore[arg-type]
    return str(value)
