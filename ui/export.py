"""Table downloads for the pages. The builders live one floor down in metrics.export, so
the command line (which must not import ui/) writes the same files; this module keeps
the pages' import path."""

from metrics.export import (
    NUMERIC_KINDS,
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
    "ColumnSpec",
    "Kind",
    "decimals_of",
    "excel_format",
    "export_file_name",
    "slugify",
    "to_csv",
    "to_xlsx",
    "typed",
]
