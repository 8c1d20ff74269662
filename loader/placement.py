"""Where the raw tables' rows live: in one table each (embedded, one server), or — on a cluster — in a local
table per shard, written and read through a Distributed table of the same name as the single-node table.

Readers and writers use the single-node names either way; only DDL and partition drops (which act on the
local tables, ON CLUSTER) differ. A server is a cluster node when its configuration defines the `cluster`
macro (deploy/cluster/config.d/cluster.xml); chDB and a single server define none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from genostream.cluster import LOCAL_SUFFIX, REPLICATED_ENGINE_ARGS, SHARDING_KEYS

CLUSTER_MACRO_SQL = "SELECT substitution FROM system.macros WHERE macro = 'cluster'"

_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (?P<db>\w+)\.(?P<name>\w+) \(")
_CREATE_VIEW = re.compile(r"CREATE (?P<kind>(OR REPLACE )?VIEW (IF NOT EXISTS )?)(?P<db>\w+)\.(?P<name>\w+)")
_ENGINE = re.compile(r"ENGINE = (?P<family>\w*)MergeTree(\((?P<args>[^)]*)\))?")


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Placement:
    """`cluster` is None on a single node; on a cluster, the remote_servers name of the shards."""

    cluster: str | None = None

    @property
    def on_cluster(self) -> str:
        return f" ON CLUSTER {_quoted(self.cluster)}" if self.cluster else ""

    def local(self, table: str) -> str:
        """The table that holds a raw table's parts (what ALTER … PARTITION acts on)."""
        return f"{table}{LOCAL_SUFFIX}" if self.cluster else table

    def database_ddl(self, database: str) -> str:
        return f"CREATE DATABASE IF NOT EXISTS {database}{self.on_cluster}"

    def ddl(self, statement: str) -> list[str]:
        """A single-node CREATE statement as this placement runs it (unchanged on a single node)."""
        if not self.cluster:
            return [statement]
        view = _CREATE_VIEW.search(statement)
        if view:
            name = f"{view['db']}.{view['name']}"
            return [_CREATE_VIEW.sub(f"CREATE {view['kind']}{name}{self.on_cluster}", statement, count=1)]
        table = _CREATE_TABLE.search(statement)
        engine = _ENGINE.search(statement)
        if not table or not engine:
            raise ValueError(f"no cluster form for this DDL: {statement.strip().splitlines()[0]}")
        db, name = table["db"], table["name"]
        key = SHARDING_KEYS.get(f"{db}.{name}")
        if key is None:
            raise ValueError(f"{db}.{name} has no sharding key in genostream.cluster.SHARDING_KEYS")
        args = ", ".join(part for part in (REPLICATED_ENGINE_ARGS, engine["args"]) if part)
        create = f"CREATE TABLE IF NOT EXISTS {db}.{self.local(name)}{self.on_cluster} ("
        local = _CREATE_TABLE.sub(create, statement, count=1)
        local = _ENGINE.sub(f"ENGINE = Replicated{engine['family']}MergeTree({args})", local, count=1)
        distributed = (
            f"CREATE TABLE IF NOT EXISTS {db}.{name}{self.on_cluster} AS {db}.{self.local(name)} "
            f"ENGINE = Distributed({self.cluster!r}, {db!r}, {self.local(name)!r}, {key})"
        )
        return [local, distributed]

    def add_column(self, table: str, column: str) -> list[str]:
        """ALTER … ADD COLUMN of a table made by `ddl` (on a cluster: its local and Distributed tables)."""
        database, name = table.split(".")
        tables = [f"{database}.{self.local(name)}", table] if self.cluster else [table]
        return [f"ALTER TABLE {t}{self.on_cluster} ADD COLUMN IF NOT EXISTS {column}" for t in tables]


def placement_of(client) -> Placement:
    """The placement of the server `client` talks to (its `cluster` macro, if any)."""
    rows = client.query(CLUSTER_MACRO_SQL).result_rows
    return Placement(str(rows[0][0]) if rows and rows[0][0] else None)
