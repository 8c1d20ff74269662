"""The output formats the port lets the engine write, with the Content-Type ClickHouse sends for each.

An allow-list, because some of ClickHouse's formats read files (Template's and the schema formats' files
under format_schema_path); the ones here only write the result.
"""

from __future__ import annotations

TSV = "text/tab-separated-values; charset=UTF-8"
CSV = "text/csv; charset=UTF-8; header=absent"
CSV_HEADER = "text/csv; charset=UTF-8; header=present"
JSON = "application/json; charset=UTF-8"
JSON_LINES = "application/x-ndjson; charset=UTF-8"
TEXT = "text/plain; charset=UTF-8"
BINARY = "application/octet-stream"

OUTPUT_FORMATS = {
    **dict.fromkeys(
        (
            "TabSeparated",
            "TSV",
            "TabSeparatedRaw",
            "TSVRaw",
            "Raw",
            "TabSeparatedWithNames",
            "TSVWithNames",
            "TabSeparatedWithNamesAndTypes",
            "TSVWithNamesAndTypes",
            "TabSeparatedRawWithNames",
            "TSVRawWithNames",
            "TabSeparatedRawWithNamesAndTypes",
            "TSVRawWithNamesAndTypes",
            "TSKV",
        ),
        TSV,
    ),
    "CSV": CSV,
    "CSVWithNames": CSV_HEADER,
    "CSVWithNamesAndTypes": CSV_HEADER,
    **dict.fromkeys(
        (
            "JSON",
            "JSONCompact",
            "JSONStrings",
            "JSONCompactStrings",
            "JSONColumns",
            "JSONCompactColumns",
            "JSONColumnsWithMetadata",
            "JSONObjectEachRow",
        ),
        JSON,
    ),
    **dict.fromkeys(
        (
            "JSONEachRow",
            "JSONLines",
            "NDJSON",
            "JSONStringsEachRow",
            "JSONCompactEachRow",
            "JSONCompactEachRowWithNames",
            "JSONCompactEachRowWithNamesAndTypes",
            "JSONCompactStringsEachRow",
            "JSONCompactStringsEachRowWithNames",
            "JSONCompactStringsEachRowWithNamesAndTypes",
        ),
        JSON_LINES,
    ),
    **dict.fromkeys(
        (
            "Pretty",
            "PrettyCompact",
            "PrettyCompactMonoBlock",
            "PrettyNoEscapes",
            "PrettyCompactNoEscapes",
            "PrettySpace",
            "PrettySpaceNoEscapes",
            "Vertical",
            "Markdown",
            "Values",
            "XML",
            "Null",
        ),
        TEXT,
    ),
    **dict.fromkeys(
        (
            "Native",
            "RowBinary",
            "RowBinaryWithNames",
            "RowBinaryWithNamesAndTypes",
            "Arrow",
            "ArrowStream",
            "Parquet",
            "ORC",
        ),
        BINARY,
    ),
}
_FOLDED = {name.casefold(): name for name in OUTPUT_FORMATS}
DEFAULT = "TabSeparated"


def canonical(name: str) -> str | None:
    """The allow-listed format spelled `name` (format names are case-insensitive), or None."""
    return _FOLDED.get(name.casefold())
