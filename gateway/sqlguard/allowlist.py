"""The functions POST /sql admits: an allow-list, kept in `sql_functions.txt` beside this module.

/sql answers questions about the marts, not about the machine. So instead of refusing the functions we know
to be dangerous, it admits only the families analysts need — aggregates, arithmetic and maths, strings,
arrays, maps, tuples, dates, type conversion, conditionals, hashes, JSON — taken from the engine's own
`system.functions` categories, minus the few members of those families that read server state (the time
zone family, the chdb build). Everything else is refused: host and server details (hostName, getServerSetting,
filesystemCapacity, getOSKernelVersion, version, uptime, ...), files and URLs (file, url, the AI functions),
other tables and dictionaries (joinGet, dictGet, hasColumnInTable), settings (getSetting), sleeps, and any
function a future engine adds until someone reviews it.

`python -m gateway.sqlguard.allowlist` regenerates the file from the engine; a test fails when the file and
the engine disagree, so moving the engine pin means reviewing the diff.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from clickhouse_connect.driver.client import Client

LIST_PATH = Path(__file__).with_name("sql_functions.txt")

FAMILIES = (
    "Aggregate Functions",
    "Arithmetic",
    "Arrays",
    "Bit",
    "Bitmap",
    "Comparison",
    "Conditional",
    "Dates and Times",
    "Distance",
    "Encoding",
    "Financial",
    "Hash",
    "JSON",
    "Logical",
    "Map",
    "Mathematical",
    "Null",
    "Random Number",
    "Rounding",
    "String",
    "String Replacement",
    "String Search",
    "String Splitting",
    "Tuple",
    "Type Conversion",
    "UUID",
)
# Members of those families that read the server rather than compute on their arguments.
EXCLUDED = frozenset(
    {
        "chdb",  # the engine build
        "formatRow",  # formats such as Template and Protobuf read schema files named in settings
        "formatRowNoNewline",
        "aggThrow",
    }
)
# Whole families excluded by a word in their names (case-insensitive), present and future members alike: the
# time zone family answers with the host's configuration (timezone, serverTimeZone, timeZoneOf(now()),
# timeZoneOffset, ...); to convert, name the zone in toDateTime(x, 'UTC') or toString(x, 'UTC').
EXCLUDED_WORDS = ("timezone",)
# Useful functions of the catch-all "Other" family that only look at their arguments, and what SQL syntax
# becomes in the parse tree (lambdas, EXISTS, GROUPING, CASE x WHEN ...).
EXTRAS = frozenset(
    {
        "bar",
        "byteSize",
        "caseWithExpression",
        "countDigits",
        "defaultValueOfArgumentType",
        "defaultValueOfTypeName",
        "exists",
        "finalizeAggregation",
        "formatReadableDecimalSize",
        "formatReadableQuantity",
        "formatReadableSize",
        "formatReadableTimeDelta",
        "getSizeOfEnumType",
        "getSubcolumn",
        "grouping",
        "identity",
        "ignore",
        "initializeAggregation",
        "isConstant",
        "isDecimalOverflow",
        "lambda",
        "materialize",
        "neighbor",
        "parseReadableSize",
        "parseReadableSizeOrNull",
        "parseReadableSizeOrZero",
        "parseTimeDelta",
        "runningAccumulate",
        "runningDifference",
        "runningDifferenceStartingWithFirstValue",
        "toColumnTypeName",
        "toTypeName",
        "transform",
        "variantElement",
        "variantType",
        "visibleWidth",
    }
)
# Aggregate function combinators (system.aggregate_function_combinators): sumIf, uniqExactState, ...
COMBINATORS = (
    "SimpleState",
    "MergeState",
    "OrDefault",
    "Distinct",
    "Resample",
    "ForEach",
    "ArgMax",
    "ArgMin",
    "OrNull",
    "Tuple",
    "Merge",
    "State",
    "Array",
    "Null",
    "Map",
    "If",
)
AGGREGATE = "aggregate"
CASE_INSENSITIVE = "case-insensitive"


@dataclass(frozen=True)
class AllowList:
    """Admitted function names: exact, case-insensitive (SUM, Count, ...) and aggregates for combinators."""

    exact: frozenset[str]
    folded: frozenset[str]
    aggregates: frozenset[str]
    folded_aggregates: frozenset[str]

    def _plain(self, name: str) -> bool:
        return name in self.exact or name.casefold() in self.folded

    def _aggregate(self, name: str) -> bool:
        return name in self.aggregates or name.casefold() in self.folded_aggregates

    def admits(self, name: str) -> bool:
        if self._plain(name):
            return True
        return any(self._aggregate(base) for base in combinator_bases(name))


def combinator_bases(name: str) -> Iterator[str]:
    """The names left as combinators are stripped from the end, one at a time: quantilesExactIfState →
    quantilesExactIf, quantilesExact (a name that is not an aggregate yields the same strings; callers look
    each up)."""
    base = name
    while suffix := next((c for c in COMBINATORS if base.endswith(c) and len(base) > len(c)), None):
        base = base[: -len(suffix)]
        yield base


def parse(text: str) -> AllowList:
    exact, folded, aggregates, folded_aggregates = set(), set(), set(), set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, *flags = line.split()
        exact.add(name)
        if CASE_INSENSITIVE in flags:
            folded.add(name.casefold())
        if AGGREGATE in flags:
            aggregates.add(name)
            if CASE_INSENSITIVE in flags:
                folded_aggregates.add(name.casefold())
    return AllowList(frozenset(exact), frozenset(folded), frozenset(aggregates), frozenset(folded_aggregates))


@cache
def allowed() -> AllowList:
    """The checked-in allow-list."""
    return parse(LIST_PATH.read_text(encoding="utf-8"))


def generate(client: Client) -> str:
    """The allow-list file as this engine's system.functions yields it (families, exclusions, extras)."""
    rows = client.query(
        "SELECT name, categories, is_aggregate, case_insensitive, alias_to "
        "FROM system.functions ORDER BY name"
    ).result_rows
    info = {name: (category, bool(agg), bool(ci), alias) for name, category, agg, ci, alias in rows}

    def admitted(name: str) -> bool:
        category, _, _, alias = info[name]
        if name in EXCLUDED or any(word in name.casefold() for word in EXCLUDED_WORDS):
            return False
        if alias:
            return alias in info and admitted(alias)
        return category in FAMILIES or name in EXTRAS

    lines = [
        "# Functions POST /sql admits (see gateway/sqlguard/allowlist.py), generated by",
        "# `python -m gateway.sqlguard.allowlist` from the engine's system.functions;",
        "# review its diff on upgrades.",
    ]
    names = sorted({n for n in info if admitted(n)} | {n for n in EXTRAS if n not in info})
    for name in names:
        _, aggregate, insensitive, _ = info.get(name, ("", False, False, ""))
        flags = [AGGREGATE] * aggregate + [CASE_INSENSITIVE] * insensitive
        lines.append(" ".join([name, *flags]))
    return "\n".join(lines) + "\n"


def main() -> int:
    import clickhouse_connect

    client = clickhouse_connect.get_client(interface="chdb")
    try:
        LIST_PATH.write_text(generate(client), encoding="utf-8")
    finally:
        client.close()
    print(f"wrote {LIST_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
