"""Admission of analysts' SQL: one read-only SELECT over the marts, judged by ClickHouse's own parser.

Defence in depth, because the engine alone is not enough: chDB runs every statement of a multi-statement
string, honours `INTO OUTFILE` even with readonly=1, lets the scalar `file()` read local files, and a
`SETTINGS` clause inside a subquery lifts the limits readonly=1 otherwise pins. So:
1. `formatQuery()` (the query passed as a bound parameter, never spliced) parses exactly one statement and
   returns its canonical text — comments gone, literals re-quoted;
2. `EXPLAIN AST` of that text must be a plain SELECT (WITH/UNION allowed): no INTO OUTFILE, no FORMAT, no
   SETTINGS anywhere, table functions only from a harmless allowlist, no function that reads files or the
   network, tables only from `marts` (and a few system tables);
3. the canonical text then runs on a handle sealed with readonly=1 and result/time/memory limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from gateway.errors import BadRequest
from genostream.errors import EngineError

SAFE_TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "values", "null"}
)
# Table functions that are also ordinary functions and harmless as such (format(pattern, args...)).
SCALAR_NAMESAKES = frozenset({"format"})
# Scalar functions that reach outside the engine.
FORBIDDEN_FUNCTIONS = frozenset({"file", "fuzzquery", "url", "s3", "remote", "executable", "input"})
ALLOWED_DATABASES = frozenset({"marts"})
ALLOWED_SYSTEM_TABLES = frozenset({"one", "numbers", "numbers_mt", "zeros", "tables", "columns", "functions"})

_NODE = re.compile(r"^(?P<indent> *)(?P<kind>\S+)(?: (?P<rest>.*?))?(?: +\(children \d+\))?$")
_ALIAS = re.compile(r" \(alias .*\)$")
_STATEMENT_WORD = re.compile(r"^\s*([A-Za-z]+)")


@dataclass
class Node:
    """One node of ClickHouse's `EXPLAIN AST` dump."""

    kind: str
    text: str
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[Node, Node | None]]:
        """(node, parent) pairs, depth first."""
        stack: list[tuple[Node, Node | None]] = [(self, None)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((child, node) for child in reversed(node.children))


def parse_ast_dump(lines: list[str]) -> Node:
    """The tree of an `EXPLAIN AST` result (one line per node, one space of indent per level)."""
    root = Node("root", "")
    path: list[tuple[int, Node]] = [(-1, root)]
    for line in lines:
        match = _NODE.match(line.rstrip())
        if not match:
            raise BadRequest("query: the engine's parse tree could not be read", field="query")
        depth = len(match["indent"])
        node = Node(match["kind"], _ALIAS.sub("", match["rest"] or ""))
        while path[-1][0] >= depth:
            path.pop()
        path[-1][1].children.append(node)
        path.append((depth, node))
    if len(root.children) != 1:
        raise BadRequest("query: exactly one statement is allowed", field="query")
    return root.children[0]


@dataclass(frozen=True)
class AdmittedQuery:
    """A query that passed every check, in the engine's canonical spelling."""

    sql: str


def _refuse(reason: str) -> BadRequest:
    return BadRequest(f"query: {reason}", field="query")


def check_tree(tree: Node, canonical: str, forbidden: frozenset[str] = FORBIDDEN_FUNCTIONS) -> None:
    """Raise BadRequest unless the parse tree is one plain SELECT over allowed tables and functions.

    `forbidden`: casefolded names refused as ordinary functions (outside FROM).
    """
    if tree.kind != "SelectWithUnionQuery":
        word = _STATEMENT_WORD.match(canonical)
        statement = word.group(1).upper() if word else tree.kind
        raise _refuse(f"only a single SELECT statement is allowed, not {statement}")
    extras = [c for c in tree.children[1:] if not (c.kind == "Identifier" and c.text == "Native")]
    if extras:
        raise _refuse("INTO OUTFILE, FORMAT and other output clauses are not allowed; use the `format` field")
    for node, parent in tree.walk():
        if node.kind == "Set":
            raise _refuse("SETTINGS clauses are not allowed; the limits of this endpoint are fixed")
        if node.kind == "Function":
            name = node.text.split(" ")[0]
            folded = name.casefold()
            in_from = parent is not None and parent.kind == "TableExpression"
            if in_from and folded not in SAFE_TABLE_FUNCTIONS:
                raise _refuse(f"table function {name}() is not allowed (only numbers, zeros, values, ...)")
            if not in_from and folded in forbidden:
                raise _refuse(f"function {name}() is not allowed: it reads outside the marts")
        if node.kind == "TableIdentifier":
            database, _, table = node.text.partition(".")
            if not table:
                continue  # a CTE or a table of the default database, marts
            if database == "system" and table in ALLOWED_SYSTEM_TABLES:
                continue
            if database not in ALLOWED_DATABASES:
                raise _refuse(f"table {node.text} is outside the marts; query marts.* tables")


def admit(client: Client, query: str, *, table_functions: frozenset[str] = frozenset()) -> AdmittedQuery:
    """Parse `query` with the engine (as a bound value) and return it if it is safe to run read-only.

    `table_functions`: the engine's table function names; used as ordinary functions they are refused too.
    """
    folded = {name.casefold() for name in table_functions}
    forbidden = frozenset(FORBIDDEN_FUNCTIONS | (folded - SAFE_TABLE_FUNCTIONS - SCALAR_NAMESAKES))
    try:
        canonical = client.query("SELECT formatQuery({q:String})", parameters={"q": query}).result_rows[0][0]
        lines = [row[0] for row in client.query(f"EXPLAIN AST {canonical}").result_rows]
    except ClickHouseError as exc:
        raise _refuse(EngineError.from_clickhouse(exc).message) from None
    check_tree(parse_ast_dump(lines), canonical, forbidden)
    return AdmittedQuery(canonical)
