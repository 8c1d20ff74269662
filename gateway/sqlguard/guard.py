"""Admission of analysts' SQL: one read-only SELECT over the marts, judged by ClickHouse's own parser.

Defence in depth, because the engine alone is not enough: chDB runs every statement of a multi-statement
string, honours `INTO OUTFILE` even with readonly=1, lets the scalar `file()` read local files, a
`SETTINGS` clause inside a subquery lifts the limits readonly=1 otherwise pins, and chDB has no users or
grants to hide other databases or the host. So:
1. `formatQuery()` (the query passed as a bound parameter, never spliced) parses exactly one statement and
   returns its canonical text — comments gone, literals re-quoted;
2. `EXPLAIN AST` of that text must be a plain SELECT (WITH/UNION allowed): no INTO OUTFILE, no FORMAT, no
   SETTINGS anywhere; table functions only from a harmless allowlist; every other function from the
   analysts' allow-list (gateway/sqlguard/allowlist.py); tables only from `marts` (plus
   system.one/numbers/zeros) — as a FROM/JOIN table, and as any database-qualified name anywhere else
   (`x IN raw.barcodes` reads a table too); no dictionary, even one left in `marts` by an older build
   (the build's lookups live in a database of their own); no name starting with `_` (the engine's virtual
   columns — `_part`, `_disk_name`, `_partition_id`, `_path`, ... — describe storage, not the data);
3. the canonical text then runs on a handle sealed with readonly=1 and result/time/memory limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from gateway.errors import BadRequest
from gateway.sqlguard.allowlist import AllowList, allowed
from genostream.errors import EngineError

SAFE_TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "values", "null"}
)
ALLOWED_DATABASES = frozenset({"marts"})
DEFAULT_DATABASE = "marts"  # the /sql client's: unqualified table names are marts tables
VIRTUAL_PREFIX = "_"  # every virtual column's name starts with it (MergeTree's _part, _disk_name, ...)
ALLOWED_SYSTEM_TABLES = frozenset({"one", "numbers", "numbers_mt", "zeros", "zeros_mt"})

DICTIONARIES_SQL = f"SELECT name FROM system.dictionaries WHERE database = '{DEFAULT_DATABASE}'"
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


def _table_allowed(database: str, table: str, dictionaries: frozenset[str] = frozenset()) -> bool:
    if database == "system":
        return table in ALLOWED_SYSTEM_TABLES
    return database in ALLOWED_DATABASES and table not in dictionaries


def check_tree(
    tree: Node,
    canonical: str,
    databases: frozenset[str] = frozenset(),
    functions: AllowList | None = None,
    dictionaries: frozenset[str] = frozenset(),
) -> None:
    """Raise BadRequest unless the parse tree is one plain SELECT over allowed tables and functions.

    `databases`: the engine's database names; a name qualified by one of them (other than marts) is refused
    wherever it appears. `functions`: the allow-list (default: the checked-in one). `dictionaries`: the
    dictionaries in marts, refused like tables outside it.
    """
    functions = functions or allowed()
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
            in_from = parent is not None and parent.kind == "TableExpression"
            if in_from and name.casefold() not in SAFE_TABLE_FUNCTIONS:
                raise _refuse(f"table function {name}() is not allowed (only numbers, zeros, values, ...)")
            if not in_from and not functions.admits(name):
                raise _refuse(
                    f"function {name}() is not allowed: /sql admits functions that compute on the marts "
                    "(aggregates, maths, strings, arrays, dates, conversions, ...), not ones that read the "
                    "server, files, URLs, settings or other tables"
                )
        if node.kind == "TableIdentifier":
            database, _, table = node.text.rpartition(".")
            if not _table_allowed(database or DEFAULT_DATABASE, table, dictionaries):
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
                and not _table_allowed(database, rest.partition(".")[0], dictionaries)
            ):
                raise _refuse(
                    f"{node.text} names database {database}, outside the marts; query marts.* tables "
                    "(rename an alias that has a database's name)"
                )


def admit(client: Client, query: str) -> AdmittedQuery:
    """Parse `query` with the engine (as a bound value) and return it if it is safe to run read-only."""
    try:
        canonical = client.query("SELECT formatQuery({q:String})", parameters={"q": query}).result_rows[0][0]
        lines = [row[0] for row in client.query(f"EXPLAIN AST {canonical}").result_rows]
        databases = frozenset(row[0] for row in client.query("SELECT name FROM system.databases").result_rows)
        dictionaries = frozenset(row[0] for row in client.query(DICTIONARIES_SQL).result_rows)
    except ClickHouseError as exc:
        raise _refuse(EngineError.from_clickhouse(exc).message) from None
    check_tree(parse_ast_dump(lines), canonical, databases, dictionaries=dictionaries)
    return AdmittedQuery(canonical)
