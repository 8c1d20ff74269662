"""What an identifier read from a study may look like: gene ids and symbols, feature types, barcodes,
metadata column names and group labels (cell type, sample, …). One place, for every reader (text, .h5ad, .h5).

Identifiers are stored exactly as written, so the joins between files (barcodes and metadata NAMEs) and the
groups analysts see are the file's own. What a reader would have to alter silently is refused instead, with
the file and line: leading or trailing whitespace (`'AAAC-1 '` never matches `'AAAC-1'`), surrounding quotes
(scanpy's pandas reader strips them, another reader might not), control characters such as NUL, and empty
names, and names longer than `MAX_NAME_LENGTH` characters. Invalid UTF-8 is refused where the bytes are
decoded (`loader.textio`, `loader.formats.hdf5`); a UTF-8 byte-order mark at the start of a file is not part
of any identifier and is skipped, as pandas (scanpy's reader) does.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

_SPACE = r"[ \t\n\r\f\v]"
_CONTROL = r"[\x00-\x1f\x7f]"
# One pattern for Python's `re` and Arrow's RE2: a match means the value breaks a rule below.
SUSPECT = rf"^{_SPACE}|{_SPACE}$|{_CONTROL}|^\".*\"$|^'.*'$"
_SUSPECT = re.compile(SUSPECT)
_CONTROL_CHAR = re.compile(_CONTROL)
MAX_NAME_LENGTH = 1024  # characters (README: "Limits")
SHOWN = 80  # characters of a refused value quoted in a message


def identifier_problem(value: str) -> str | None:
    """Why `value` cannot be stored as an identifier as it is, or None when it can."""
    if not value:
        return "is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH:,} characters ({len(value):,})"
    if not _SUSPECT.search(value):
        return None
    control = _CONTROL_CHAR.search(value)
    if control:
        return f"contains the control character U+{ord(control.group()):04X}"
    if value != value.strip(" \t\n\r\f\v"):
        return "has leading or trailing whitespace"
    return "is in quotes"


def first_bad(values: pa.Array) -> int | None:
    """Index of the first value of a string array that `identifier_problem` refuses (nulls are skipped)."""
    lengths = pc.utf8_length(values)
    bad = pc.or_(
        pc.or_(pc.equal(lengths, 0), pc.greater(lengths, MAX_NAME_LENGTH)),
        pc.match_substring_regex(values, SUSPECT),
    )
    bad = pc.fill_null(bad, False)
    if not pc.any(bad).as_py():
        return None
    return int(pc.index(bad, True).as_py())


def first_problem(values: list[str]) -> tuple[int, str] | None:
    """(position, problem) of the first value `identifier_problem` refuses, or None (found by `first_bad`
    in one vectorised pass)."""
    position = first_bad(pa.array(values, pa.string()))
    if position is None:
        return None
    return position, identifier_problem(values[position]) or "is not allowed"


def describe(kind: str, value: str, problem: str) -> str:
    """The one-line refusal for an identifier (the caller adds the file and line); a long value is cut."""
    shown = repr(value) if len(value) <= SHOWN else repr(value[:SHOWN]) + "…"
    return f"{kind} {shown} {problem}; identifiers are stored exactly as written — correct the file"
