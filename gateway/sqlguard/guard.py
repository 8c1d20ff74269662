"""Admission of analysts' SQL: one read-only SELECT over the marts, judged by ClickHouse's own parser.

Defence in depth, because the engine alone is not enough: chDB runs every statement of a multi-statement
string, honours `INTO OUTFILE` even with readonly=1, lets the scalar `file()` read local files, a
`SETTINGS` clause inside a subquery lifts the limits readonly=1 otherwise pins, and chDB has no users or
grants to hide other databases or the host. So:
1. `formatQuery()` (the query passed as a bound parameter, never spliced) parses exactly one statement and
   returns its canonical text — comments gone, literals re-quoted;
2. `EXPLAIN AST` of that text must be a plain SELECT (WITH/UNION allowed): no INTO OUTFILE, no FORMAT, no
   SETTINGS anywhere; table functions only from a harmless allowlist; every other function from the
   analysts' allow-list (gateway/sqlguard/allowlist.py), and none whose one call the time limit cannot
   stop (gateway/sqlguard/cost.py); tables only from `marts` (plus
   system.one/numbers/zeros) — as a FROM/JOIN table, and as any database-qualified name anywhere else
   (`x IN raw.barcodes` reads a table too); no dictionary, even one left in `marts` by an older build
   (the build's lookups live in a database of their own); no name starting with `_` (the engine's virtual
   columns — `_part`, `_disk_name`, `_partition_id`, `_path`, ... — describe storage, not the data);
3. the canonical text then runs on a handle sealed with readonly=1 and result/time/memory limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from gateway.clients import SQL_DATABASE
from gateway.errors import BadRequest
from gateway.sqlguard.allowlist import AllowList, allowed
from gateway.sqlguard.cost import cost_problem
from genostream.errors import EngineError

SAFE_TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "values", "null"}
)
ALLOWED_DATABASES = frozenset({SQL_DATABASE})
VIRTUAL_PREFIX = "_"  # every virtual column's name starts with it (MergeTree's _part, _disk_name, ...)
ALLOWED_SYSTEM_TABLES = frozenset({"one", "numbers", "numbers_mt", "zeros", "zeros_mt"})

DICTIONARIES_SQL = "SELECT name FROM system.dictionaries WHERE database = {database:String}"
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
            raise _refuse("the engine's parse tree could not be read", "SYNTAX_ERROR")
        depth = len(match["indent"])
        node = Node(match["kind"], _ALIAS.sub("", match["rest"] or ""))
        while path[-1][0] >= depth:
            path.pop()
        path[-1][1].children.append(node)
        path.append((depth, node))
    if len(root.children) != 1:
        raise _refuse("exactly one statement is allowed", "SYNTAX_ERROR")
    return root.children[0]


@dataclass(frozen=True)
class AdmittedQuery:
    """A query that passed every check, in the engine's canonical spelling.

    `output_format` and `parameters` only come from the ClickHouse port's entry point (gateway.sqlguard.port):
    the FORMAT clause it took off, and the `{name:Type}` values the engine binds (the tree was checked with
    them bound).
    """

    sql: str
    output_format: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)


class Refused(BadRequest):
    """A refusal of the guard; `error_name` is the ClickHouse error a server would answer it with (READONLY
    for statements that are not a SELECT, ACCESS_DENIED for what is outside the marts and the allow-list,
    the engine's own for a query it cannot parse), for the ClickHouse port. /sql's body stays as it was."""

    def __init__(self, reason: str, error_name: str = "ACCESS_DENIED", error_code: int | None = None) -> None:
        super().__init__(f"query: {reason}", field="query")
        self.error_name = error_name
        self.error_code = error_code


def _arguments(call: Node, which: int = 0) -> list[tuple[str, str]]:
    """(kind, text) of a function call's arguments (its first ExpressionList child) or, `which=1`, of a
    parametric aggregate's parameters (the second: `groupArray(10)(x)`)."""
    lists = [c for c in call.children if c.kind == "ExpressionList"]
    return [(a.kind, a.text) for a in lists[which].children] if len(lists) > which else []


def _refuse(reason: str, error_name: str = "ACCESS_DENIED") -> Refused:
    return Refused(reason, error_name)


def table_allowed(
    database: str,
    table: str,
    dictionaries: frozenset[str] = frozenset(),
    system_tables: frozenset[str] = frozenset(),
) -> bool:
    """Whether `database.table` may be read: marts (not its dictionaries), a few system generators, and
    `system_tables`."""
    if database == "system":
        return table in ALLOWED_SYSTEM_TABLES or table in system_tables
    return database in ALLOWED_DATABASES and table not in dictionaries


def check_tree(
    tree: Node,
    canonical: str,
    databases: frozenset[str] = frozenset(),
    functions: AllowList | None = None,
    dictionaries: frozenset[str] = frozenset(),
    *,
    system_tables: frozenset[str] = frozenset(),
) -> None:
    """Raise Refused unless the parse tree is one plain SELECT over allowed tables and functions.

    `databases`: the engine's database names; a name qualified by one of them (other than marts) is refused
    wherever it appears. `functions`: the allow-list (default: the checked-in one). `dictionaries`: the
    dictionaries in marts, refused like tables outside it. `system_tables`: more system tables readable as a
    FROM/JOIN table (the ClickHouse port's catalog views stand in for them).
    """
    functions = functions or allowed()
    if tree.kind != "SelectWithUnionQuery":
        word = _STATEMENT_WORD.match(canonical)
        statement = word.group(1).upper() if word else tree.kind
        raise _refuse(f"only a single SELECT statement is allowed, not {statement}", "READONLY")
    extras = [c for c in tree.children[1:] if not (c.kind == "Identifier" and c.text == "Native")]
    if extras:
        raise _refuse(
            "INTO OUTFILE, FORMAT and other output clauses are not allowed; use the `format` field",
            "READONLY",
        )
    for node, parent in tree.walk():
        if node.kind == "Set":
            raise _refuse(
                "SETTINGS clauses are not allowed; the limits of this endpoint are fixed", "READONLY"
            )
        if node.kind == "Function":
            name = node.text.split(" ")[0]
            in_from = parent is not None and parent.kind == "TableExpression"
            if in_from and name.casefold() not in SAFE_TABLE_FUNCTIONS:
                raise _refuse(f"table function {name}() is not allowed (only numbers, zeros, values, ...)")
            if not in_from and (problem := cost_problem(name, _arguments(node), _arguments(node, 1))):
                raise _refuse(problem)
            if not in_from and not functions.admits(name):
                raise _refuse(
                    f"function {name}() is not allowed: /sql admits functions that compute on the marts "
                    "(aggregates, maths, strings, arrays, dates, conversions, ...), not ones that read the "
                    "server, files, URLs, settings or other tables"
                )
        if node.kind == "TableIdentifier":
            database, _, table = node.text.rpartition(".")
            if not table_allowed(database or SQL_DATABASE, table, dictionaries, system_tables):
                raise _refuse(f"table {node.text} is outside the marts; query marts.* tables")
        if node.kind == "Identifier":
            if any(part.startswith(VIRTUAL_PREFIX) for part in node.text.split(".")):
                raise _refuse(
                    f"{node.text}: names starting with {VIRTUAL_PREFIX} are the engine's virtual columns "
                    "(parts, disks, paths), not the marts' data; rename an alias that starts with _"
                )
            database, _, rest = node.text.partition(".")
            if (
                rest
                and database in databases
                and not table_allowed(database, rest.partition(".")[0], dictionaries)
            ):
                raise _refuse(
                    f"{node.text} names database {database}, outside the marts; query marts.* tables "
                    "(rename an alias that has a database's name)"
                )


def canonical_text(client: Client, query: str) -> str:
    """`query` parsed by the engine (as a bound value, never spliced): exactly one statement, canonical."""
    rows = _engine_rows(client, "SELECT formatQuery({q:String})", {"q": query})
    return str(rows[0][0])


def parse_tree(client: Client, canonical: str, parameters: Mapping[str, Any] | None = None) -> Node:
    """The engine's parse tree of `canonical`, with `{name:Type}` placeholders bound to `parameters`."""
    return parse_ast_dump([row[0] for row in _engine_rows(client, f"EXPLAIN AST {canonical}", parameters)])


def catalog_names(client: Client) -> tuple[frozenset[str], frozenset[str]]:
    """(the engine's databases, the dictionaries in marts): what `check_tree` refuses by name."""
    databases = frozenset(row[0] for row in _engine_rows(client, "SELECT name FROM system.databases"))
    found = _engine_rows(client, DICTIONARIES_SQL, {"database": SQL_DATABASE})
    dictionaries = frozenset(row[0] for row in found)
    return databases, dictionaries


def _engine_rows(client: Client, sql: str, parameters: Mapping[str, Any] | None = None) -> list[Any]:
    try:
        return list(client.query(sql, parameters=dict(parameters or {})).result_rows)
    except DatabaseError as exc:
        error = EngineError.from_clickhouse(exc)
        if error.code is None:  # not the engine's verdict on the query (a transport failure): not a refusal
            raise
        raise Refused(error.message, error.name or "SYNTAX_ERROR", error.code) from None


def admit(client: Client, query: str) -> AdmittedQuery:
    """Parse `query` with the engine (as a bound value) and return it if it is safe to run read-only."""
    canonical = canonical_text(client, query)
    databases, dictionaries = catalog_names(client)
    check_tree(parse_tree(client, canonical), canonical, databases, dictionaries=dictionaries)
    return AdmittedQuery(canonical)
