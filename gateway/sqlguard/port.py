"""The guard's entry point for the ClickHouse port: POST /sql's rules, plus what a ClickHouse client needs
of a server — a FORMAT clause (taken off here; the engine writes that format), `{name:Type}` parameters
(bound by the engine, and the tree checked with them bound, so an `Identifier` parameter naming another
database is refused like the name itself), the server facts clients ask for when they connect (`version()`,
`timezone()`, `currentDatabase()`), and the catalog through views of the marts (sqlguard.introspection).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from clickhouse_connect.driver.client import Client

from gateway.sqlguard import introspection
from gateway.sqlguard.allowlist import AllowList, allowed
from gateway.sqlguard.guard import (
    AdmittedQuery,
    Refused,
    canonical_text,
    catalog_names,
    check_tree,
    parse_tree,
)

CONNECT_FUNCTIONS = frozenset({"version", "timezone", "timeZone", "serverTimezone", "currentDatabase"})
_FORMAT = re.compile(r"\s+FORMAT\s+(?P<name>\w+)$")
_PLACEHOLDER = re.compile(r"\{\s*\w+\s*:")


class BoundText:
    """A parameter's text exactly as the client sent it. clickhouse-connect passes a value of a type it does
    not know through `str()`, so the engine receives the `param_<name>` text unaltered and parses it by the
    placeholder's type, as a ClickHouse server does."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _functions() -> AllowList:
    base = allowed()
    return dataclasses.replace(base, exact=base.exact | CONNECT_FUNCTIONS)


def _split_format(canonical: str) -> tuple[str, str | None]:
    match = _FORMAT.search(canonical)
    if not match:
        return canonical, None
    return canonical[: match.start()], match["name"]


def admit_port(client: Client, query: str, parameters: Mapping[str, str]) -> AdmittedQuery:
    """`query` as the port runs it — FORMAT taken off, parameters bound, catalog tables read through their
    views — or Refused with the ClickHouse error a read-only server would give."""
    canonical, output_format = _split_format(canonical_text(client, query))
    canonical = introspection.as_select(canonical) or canonical
    bound = (
        {name: BoundText(text) for name, text in parameters.items()} if _PLACEHOLDER.search(canonical) else {}
    )
    tree = parse_tree(client, canonical, bound)
    databases, dictionaries = catalog_names(client)
    check_tree(tree, canonical, databases, _functions(), dictionaries, system_tables=introspection.TABLES)
    with_views = introspection.with_views(canonical)
    if with_views is None:
        raise Refused("system tables can be read in FROM and JOIN only")
    return AdmittedQuery(with_views, output_format, bound)
