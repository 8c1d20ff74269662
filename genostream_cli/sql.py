"""`genostream sql "SELECT …"`: a quick query over the marts, admitted by the /sql guard and run on the same
sealed handle (readonly, result/time/memory limits), printed as an aligned table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.clients import ClientPool, as_api_errors
from gateway.config import GatewayConfig
from gateway.sqlguard.guard import admit

# Cells wider than this are cut (with …): a table stays readable; `/sql` gives whole values.
MAX_CELL = 60


def run_query(query: str) -> tuple[list[str], list[Sequence[Any]]]:
    """Column names and rows of `query`, admitted and limited exactly as POST /sql does.

    Raises
    ------
    gateway.errors.ApiError
        The guard refused the query, or the engine did (a limit, an unknown column): one line, as /sql's 4xx.
    """
    config = GatewayConfig.from_env()
    pool = ClientPool(config)
    try:
        with as_api_errors(user_sql=True, timeout_s=config.sql_timeout_s), pool.using("sql") as client:
            result = client.query(admit(client, query).sql)
            return list(result.column_names), list(result.result_rows)
    finally:
        pool.close()


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def format_table(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: a header, a rule, one line per row (numbers right-aligned), then the row count."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(names)]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(names))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    count = f"({len(rows)} row{'' if len(rows) == 1 else 's'})"
    return "\n".join([line(list(names)), rule, *(line(row) for row in cells), count])
