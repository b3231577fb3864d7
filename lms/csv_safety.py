"""CSV exports that spreadsheets cannot execute: a cell starting with =, +, -, @, a tab or a
carriage return is prefixed with a quote so it is shown as text (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

_DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_DANGEROUS_FIRST):
        return "'" + text
    return text


def csv_render(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_safe_cell(cell) for cell in row])
    return buffer.getvalue()
