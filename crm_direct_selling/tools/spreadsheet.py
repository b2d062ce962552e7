"""Values, never formulas: the one rule of every spreadsheet the addons write.

A distributor may be named ``=HYPERLINK("http://x","y")``. Written as it is, openpyxl
types that text as a formula and Excel evaluates it when the export is opened (CSV
injection). Every XLSX and CSV export passes its values through this module:

* XLSX: text is written as a text cell (``data_type`` ``'s'``, an inline string) whatever
  it starts with; Excel shows it and never evaluates it. Numbers, dates and booleans are
  left alone. Characters XML cannot hold (C0 controls but tab, CR, LF) are dropped rather
  than failing the whole export.
* CSV: text starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe
  (the customary guard: spreadsheet programs show it as text); numbers stay numbers.
"""

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

# what makes a spreadsheet program evaluate a cell typed or read as text
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def xlsx_value(ws, value):
    """What to append to the write-only sheet ``ws`` for ``value``.

    Text that openpyxl would type as a formula (``=...``) or an error (``#N/A``) becomes
    a cell forced to text; other text is already written as text. Cells pass through.
    """
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value[:1] == "=" or value in ERROR_CODES:
        return xlsx_cell(ws, value)
    return value


def xlsx_cell(ws, value, font=None):
    """A write-only cell holding ``value``; text stays text (see ``xlsx_value``)."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def xlsx_row(ws, values):
    """A row for ``ws.append``: every value through ``xlsx_value``."""
    return [xlsx_value(ws, v) for v in values]


def append_row(ws, values):
    """``ws.append(values)`` with every value through ``xlsx_value``."""
    ws.append([xlsx_value(ws, v) for v in values])


def csv_value(value):
    """A value for ``csv.writer``: text that could be read as a formula gets a leading
    apostrophe; anything else (numbers included) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_row(values):
    """A row for ``csv.writer.writerow``: every value through ``csv_value``."""
    return [csv_value(v) for v in values]
