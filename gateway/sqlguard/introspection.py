"""What the ClickHouse port shows of the engine's catalog: the marts, their tables and columns, and settings.

Clients browse with `system.databases/tables/columns`, SHOW and DESCRIBE, and read `system.settings` when
they connect. Those tables also name other databases and the store's directories, so the port never reads
them directly: each is replaced by a view of the marts' rows with every path blanked, and SHOW, DESCRIBE
and EXISTS become SELECTs over the views.
"""

from __future__ import annotations

import re

from gateway.sqlguard.guard import Refused

_MARTS = "'marts'"
VIEWS = {
    "databases": "SELECT name, engine, '' AS data_path, '' AS metadata_path, uuid, engine_full, comment, "
    f"is_external FROM system.databases WHERE name = {_MARTS}",
    "tables": "SELECT database, name, uuid, engine, is_temporary, CAST([], 'Array(String)') AS data_paths, "
    "'' AS metadata_path, metadata_modification_time, metadata_version, dependencies_database, "
    "dependencies_table, create_table_query, engine_full, as_select, partition_key, sorting_key, "
    "primary_key, sampling_key, storage_policy, total_rows, total_bytes, total_bytes_uncompressed, parts, "
    "active_parts, total_marks, lifetime_rows, lifetime_bytes, comment, has_own_data, "
    "loading_dependencies_database, loading_dependencies_table, loading_dependent_database, "
    "loading_dependent_table "
    f"FROM system.tables WHERE database = {_MARTS}",
    "columns": f"SELECT * FROM system.columns WHERE database = {_MARTS}",
    "settings": "SELECT * FROM system.settings",
    "functions": "SELECT * FROM system.functions",
}
TABLES = frozenset(VIEWS)

_READ = re.compile(
    r"\b(?P<keyword>FROM|JOIN)\s+system\.(?P<table>" + "|".join(VIEWS) + r")\b(?!\.)(?P<alias>\s+AS\s+)?"
)
_LEFT = re.compile(r"\bsystem\.(?:" + "|".join(VIEWS) + r")\b")
_NAME = r"(?:(?P<database>`[^`]+`|\w+)\.)?(?P<table>`[^`]+`|\w+)"
_SHOW = re.compile(r"^SHOW (?P<what>DATABASES|TABLES)(?: (?:FROM|IN) (?P<database>\S+))?$")
_DESCRIBE = re.compile(rf"^(?:DESCRIBE|DESC) (?:TABLE )?{_NAME}$")
_EXISTS = re.compile(rf"^EXISTS (?:TABLE )?{_NAME}$")


def _marts(database: str | None, statement: str) -> None:
    name = (database or "marts").strip("`")
    if name not in ("marts", "default"):
        raise Refused(f"{statement} of database {name}: this port shows the marts only")


def _literal(name: str) -> str:
    text = name.strip("`").replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def as_select(canonical: str) -> str | None:
    """SHOW DATABASES/TABLES, DESCRIBE and EXISTS of a table as SELECTs over the catalog tables (what
    ClickHouse runs for them), or None for any other statement."""
    if match := _SHOW.match(canonical):
        if match["what"] == "DATABASES":
            return "SELECT name FROM system.databases ORDER BY name"
        _marts(match["database"], "SHOW TABLES")
        return f"SELECT name FROM system.tables WHERE database = {_MARTS} ORDER BY name"
    if match := _DESCRIBE.match(canonical):
        _marts(match["database"], "DESCRIBE")
        return (
            "SELECT name, type, default_kind AS default_type, default_expression, comment, "
            "compression_codec AS codec_expression, '' AS ttl_expression FROM system.columns "
            f"WHERE table = {_literal(match['table'])} ORDER BY position"
        )
    if match := _EXISTS.match(canonical):
        _marts(match["database"], "EXISTS")
        table = _literal(match["table"])
        return f"SELECT toUInt8(count() > 0) AS result FROM system.tables WHERE name = {table}"
    return None


def with_views(canonical: str) -> str | None:
    """The query with each read of a catalog table replaced by its view; None when a catalog table is named
    anywhere else (e.g. `x IN system.tables`), where no view can stand in for it."""
    if _LEFT.search(_READ.sub("", canonical)):
        return None

    def view(match: re.Match[str]) -> str:
        alias = match["alias"] or f" AS {match['table']}"
        return f"{match['keyword']} ({VIEWS[match['table']]}){alias}"

    return _READ.sub(view, canonical)
