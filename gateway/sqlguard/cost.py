"""Functions whose one call the engine cannot stop: refused, or held to literal arguments of bounded size.

The engine checks a query's time limit (and a cancel) only between blocks of rows; a function call works
on a whole block without looking up. For most functions a block's work is bounded by its rows and the
memory limit, but not for these:
- string and array edit distances and similarities are quadratic in their arguments' lengths (one
  `editDistance` of two 65,000-byte strings: 31 s on this machine, at any block size);
- `arrayFold` is quadratic when its accumulator grows;
- a regular expression is compiled before the first row, in time that grows with the square of its nesting
  (`(?:a` × 30,000: 14 s), so a pattern must be a string literal (or an array of them) of at most
  MAX_PATTERN_CHARS characters — not built by `repeat()` or taken from a column;
- a function that creates an array or string of a size it is given works on one row for as long as that size
  takes (`arrayResize([1], 200000000)`, `randomPrintableASCII(1000000000)`: 1–5 s past a 1 s limit, and any
  function over the result longer still — `arraySort` of 30M elements 10 s), so the size must be an integer
  literal of at most MAX_CREATED_ELEMENTS — the engine's own cap on `repeat()`, `space()` and `leftPad()`,
  whose results it already refuses beyond that. `range()` is held to the same number of elements per block by
  the engine (`function_range_max_elements_in_block`, set for /sql in gateway.clients);
- an aggregate that gathers the rows' values into one array or string (`groupArray`, `groupUniqArray`,
  `groupConcat`, ...) hands the next function one value of as many elements as it is allowed to gather: given
  a maximum size, that size must be an integer literal of at most MAX_CREATED_ELEMENTS, whatever combinators
  follow its name (`groupArray(200000000)(rand())` over 100M rows, sorted, answered 5 s after a 2 s limit).
  Without one it gathers what the rows and the memory limit allow, as any aggregate does, while the engine's
  clock runs over the rows (the same shape without a size ended within the limit + 1.5 s). The moving sums and
  averages, whose result is always as long as the rows (their parameter is a window), are refused: over 100M
  rows one ended 2 s past a 2 s limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.sqlguard.allowlist import combinator_bases

UNBOUNDED = frozenset(
    name.casefold()
    for name in (
        "editDistance",
        "editDistanceUTF8",
        "levenshteinDistance",
        "levenshteinDistanceUTF8",
        "damerauLevenshteinDistance",
        "jaroSimilarity",
        "jaroWinklerSimilarity",
        "arrayLevenshteinDistance",
        "arrayLevenshteinDistanceWeighted",
        "arraySimilarity",
        "arrayFold",
    )
)
MAX_PATTERN_CHARS = 1000
MAX_CREATED_ELEMENTS = 1_000_000
# Functions that create an array or a string of a given size, and the position of that size argument.
SIZE_ARGUMENT = {
    name.casefold(): position
    for name, position in (
        ("arrayWithConstant", 0),
        ("arrayResize", 1),
        ("randomString", 0),
        ("randomFixedString", 0),
        ("randomPrintableASCII", 0),
        ("randomStringUTF8", 0),
    )
}
# Aggregates whose result grows with the rows, and the position of the parameter that bounds it.
SIZE_PARAMETER = {
    name.casefold(): position
    for name, position in (
        ("groupArray", 0),
        ("array_agg", 0),
        ("groupUniqArray", 0),
        ("groupArraySample", 0),
        ("groupArrayLast", 0),
        ("groupArraySorted", 0),
        ("groupArrayInsertAt", 1),
        ("groupConcat", 1),
        ("group_concat", 1),
    )
}
UNBOUNDED_AGGREGATES = frozenset(name.casefold() for name in ("groupArrayMovingSum", "groupArrayMovingAvg"))
_INTEGER_LITERAL = re.compile(r"^U?Int\d+_(-?\d+)$")
# The regular-expression functions of the allow-list, and the position of their pattern argument.
PATTERN_ARGUMENT = {
    name.casefold(): position
    for position, names in (
        (
            1,
            (
                "match",
                "matchCaseInsensitive",
                "notMatch",
                "notMatchCaseInsensitive",
                "REGEXP_MATCHES",
                "extract",
                "extractAll",
                "extractAllGroups",
                "extractAllGroupsHorizontal",
                "extractAllGroupsVertical",
                "extractGroups",
                "regexpExtract",
                "REGEXP_EXTRACT",
                "REGEXP_SUBSTR",
                "regexpInstr",
                "regexp_instr",
                "regexpPosition",
                "REGEXP_REPLACE",
                "replaceRegexpAll",
                "replaceRegexpOne",
                "countMatches",
                "countMatchesCaseInsensitive",
                "multiMatchAny",
                "multiMatchAnyIndex",
                "multiMatchAllIndices",
                "multiFuzzyMatchAny",
                "multiFuzzyMatchAnyIndex",
                "multiFuzzyMatchAllIndices",
            ),
        ),
        (0, ("splitByRegexp",)),
    )
    for name in names
}


def cost_problem(
    name: str, arguments: Sequence[tuple[str, str]], parameters: Sequence[tuple[str, str]] = ()
) -> str | None:
    """Why a call of function `name` with `arguments` (and an aggregate's `parameters`; (parse-tree kind,
    text) each) cannot be bounded, or None when it can."""
    folded = name.casefold()
    if problem := _aggregate_problem(name, parameters):
        return problem
    if folded in UNBOUNDED:
        return (
            f"function {name}() is not allowed: its cost grows with the square of its arguments' length, and "
            "the engine cannot stop one call at the time limit"
        )
    if (size_at := SIZE_ARGUMENT.get(folded)) is not None:
        return _size_problem(name, arguments, size_at)
    position = PATTERN_ARGUMENT.get(folded)
    if position is None:
        return None
    kind, text = arguments[position] if position < len(arguments) else ("", "")
    literal = kind == "Literal" and (text.startswith("'") or text.startswith("Array_['"))
    if not literal or len(text) > MAX_PATTERN_CHARS + len("Array_['']"):
        return (
            f"{name}(): the regular expression must be a string literal (or an array of them) of at most "
            f"{MAX_PATTERN_CHARS} characters, so that compiling it stays within the time limit"
        )
    return None


def _size_problem(name: str, arguments: Sequence[tuple[str, str]], position: int) -> str | None:
    kind, text = arguments[position] if position < len(arguments) else ("", "")
    match = _INTEGER_LITERAL.match(text) if kind == "Literal" else None
    if match is None or abs(int(match.group(1))) > MAX_CREATED_ELEMENTS:
        return (
            f"{name}(): the size must be an integer literal of at most {MAX_CREATED_ELEMENTS:,}, so that "
            "one call stays within the time limit"
        )
    return None


def _aggregate_problem(name: str, parameters: Sequence[tuple[str, str]]) -> str | None:
    for base in (name, *combinator_bases(name)):
        if base.casefold() in UNBOUNDED_AGGREGATES:
            return (
                f"{name}() is not allowed: its result is as long as the rows it reads, and the engine cannot "
                "stop one call over it at the time limit (use a window function: sum(x) OVER (ROWS ...))"
            )
        if (position := SIZE_PARAMETER.get(base.casefold())) is not None:
            if position >= len(parameters):
                return None  # no size given: what the rows and the memory limit allow
            kind, text = parameters[position]
            match = _INTEGER_LITERAL.match(text) if kind == "Literal" else None
            if match is None or not 0 < int(match.group(1)) <= MAX_CREATED_ELEMENTS:
                example = f"{base}(1000)(x)" if position == 0 else f"{base}(..., 1000)(x)"
                return (
                    f"{name}(): its maximum size must be an integer literal of at most "
                    f"{MAX_CREATED_ELEMENTS:,} (e.g. {example}), so that a function over its result stays "
                    "within the time limit"
                )
            return None
    return None
