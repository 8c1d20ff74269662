"""The /sql allow-list and the guard's name checks, on parse trees written out by hand (no engine)."""

from __future__ import annotations

import pytest

from gateway.errors import BadRequest
from gateway.sqlguard.allowlist import allowed, generate, parse
from gateway.sqlguard.cost import cost_problem
from gateway.sqlguard.guard import check_tree, parse_ast_dump
from gateway.sqlguard.result import arrow_type, json_value_text

DUMP_IN = """SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 1)
   ExpressionList (children 1)
    Function {function} (children 1)
     ExpressionList (children 2)
      Identifier barcode
      Identifier {name}"""
DATABASES = frozenset({"marts", "raw", "staging", "system", "default", "INFORMATION_SCHEMA"})


def _in(name: str, function: str = "in"):
    return parse_ast_dump(DUMP_IN.format(name=name, function=function).splitlines())


@pytest.mark.parametrize("name", ["raw.barcodes", "staging.stg_raw__barcodes", "system.tables", "default.t"])
def test_a_table_outside_the_marts_is_refused_wherever_it_is_named(name: str) -> None:
    with pytest.raises(BadRequest, match="outside the marts"):
        check_tree(_in(name), "SELECT", DATABASES)


@pytest.mark.parametrize("name", ["barcodes", "marts.cells", "c.barcode", "system.one", "t.1"])
def test_names_inside_the_marts_pass(name: str) -> None:
    check_tree(_in(name), "SELECT", DATABASES)


DUMP_FROM = """SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Asterisk
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      TableIdentifier {table}"""


def _from(table: str):
    return parse_ast_dump(DUMP_FROM.format(table=table).splitlines())


@pytest.mark.parametrize(
    "name", ["_part", "_disk_name", "cells._partition_id", "marts.cells._path", "_x.gene"]
)
def test_virtual_columns_are_refused(name: str) -> None:
    with pytest.raises(BadRequest, match="virtual columns"):
        check_tree(_in(name), "SELECT", DATABASES)


@pytest.mark.parametrize(
    "table", ["marts.cell_lookup", "cell_lookup", "intermediate.cell_lookup", "internal.x"]
)
def test_dictionaries_and_other_databases_are_refused_as_tables(table: str) -> None:
    databases = DATABASES | {"intermediate"}
    lookups = frozenset({"cell_lookup", "gene_lookup"})
    with pytest.raises(BadRequest, match="outside the marts"):
        check_tree(_from(table), "SELECT", databases, dictionaries=lookups)
    if "." in table and table.partition(".")[0] in databases:
        with pytest.raises(BadRequest, match="outside the marts"):
            check_tree(_in(table), "SELECT", databases, dictionaries=lookups)
    check_tree(_from("marts.cells"), "SELECT", databases, dictionaries=lookups)
    check_tree(_from("cells"), "SELECT", databases, dictionaries=lookups)


class _Functions:
    """system.functions rows as `generate` reads them: name, category, aggregate, case-insensitive, alias."""

    def __init__(self, rows: list[tuple]) -> None:
        self.result_rows = rows

    def query(self, _sql: str) -> _Functions:
        return self


def test_the_time_zone_family_is_excluded_by_the_derivation() -> None:
    rows = [
        ("toYear", "Dates and Times", 0, 0, ""),
        ("timezoneOf", "Dates and Times", 0, 0, ""),
        ("timeZoneOf", "Dates and Times", 0, 0, "timezoneOf"),
        ("timeZoneOffset", "Dates and Times", 0, 0, ""),
        ("serverTimeZone", "Other", 0, 0, "serverTimezone"),
        ("serverTimezone", "Other", 0, 0, ""),
        ("toTimeZone", "Dates and Times", 0, 0, ""),
        ("nowish", "Dates and Times", 0, 0, "timeZoneOffset"),
    ]
    names = parse(generate(_Functions(rows)))  # type: ignore[arg-type]
    assert names.admits("toYear")
    for name in ("timezoneOf", "timeZoneOf", "timeZoneOffset", "serverTimeZone", "toTimeZone", "nowish"):
        assert not names.admits(name), name
    for name in ("timezone", "timeZone", "serverTimezone", "timeZoneOf", "timezoneOffset", "toTimezone"):
        assert not allowed().admits(name), name


@pytest.mark.parametrize("function", ["hostName", "getServerSetting", "file", "joinGet", "dictGet", "sleep"])
def test_functions_outside_the_allow_list_are_refused(function: str) -> None:
    with pytest.raises(BadRequest, match=f"function {function}\\(\\) is not allowed"):
        check_tree(_in("x", function), "SELECT", DATABASES)


def test_allow_list_knows_case_insensitive_names_and_combinators() -> None:
    functions = allowed()
    for name in ["sum", "SUM", "Count", "avgIf", "COUNTDistinct", "quantilesExactIfState", "uniqMerge"]:
        assert functions.admits(name), name
    for name in ["hostName", "HOSTNAME", "sumHost", "getSettingIf", "fileIf", "Distinct"]:
        assert not functions.admits(name), name
    tiny = parse("sum aggregate case-insensitive\nlower\n# comment\n")
    assert tiny.admits("SUM") and tiny.admits("sumIfOrNull") and tiny.admits("lower")
    assert not tiny.admits("LOWER") and not tiny.admits("lowerIf")


def test_nested_values_become_json_text() -> None:
    assert arrow_type("Array(UInt8)") == arrow_type("UUID") == arrow_type("Map(String, String)")
    assert str(arrow_type("Nullable(LowCardinality(String))")) == "string"
    assert str(arrow_type("LowCardinality(Nullable(Float64))")) == "double"
    assert json_value_text({"a": [1.5, float("nan")]}) == '{"a":[1.5,null]}'
    assert json_value_text((1, "x")) == '[1,"x"]'
    assert json_value_text(b"ab") == "ab"
    assert json_value_text(None) is None


@pytest.mark.parametrize(
    ("name", "arguments", "refused"),
    [
        ("arrayWithConstant", [("Literal", "UInt64_1000000"), ("Literal", "UInt64_1")], False),
        ("arrayWithConstant", [("Literal", "UInt64_1000001"), ("Literal", "UInt64_1")], True),
        ("arrayWithConstant", [("Identifier", "number"), ("Literal", "UInt64_1")], True),
        ("arrayResize", [("Literal", "Array_[UInt64_1]"), ("Literal", "Int64_-10")], False),
        ("arrayResize", [("Literal", "Array_[UInt64_1]"), ("Function", "toUInt32")], True),
        ("randomPrintableASCII", [("Literal", "UInt64_1000000000")], True),
        ("randomString", [("Literal", "UInt64_16")], False),
        ("randomStringUTF8", [], True),
    ],
)
def test_sized_functions_need_a_small_integer_literal(
    name: str, arguments: list[tuple[str, str]], refused: bool
) -> None:
    problem = cost_problem(name, arguments)
    assert (problem is not None) == refused, problem
    assert problem is None or "integer literal of at most 1,000,000" in problem


@pytest.mark.parametrize(
    ("name", "parameters", "refused"),
    [
        ("groupArray", [], False),
        ("groupArray", [("Literal", "UInt64_1000000")], False),
        ("groupArray", [("Literal", "UInt64_1000001")], True),
        ("groupArray", [("Identifier", "n")], True),
        ("groupArray", [("Literal", "UInt64_0")], True),
        ("groupArrayIf", [("Literal", "UInt64_200000000")], True),
        ("groupArrayMergeState", [("Literal", "UInt64_200000000")], True),
        ("GROUPARRAY", [("Literal", "UInt64_200000000")], True),
        ("array_agg", [("Function", "plus")], True),
        ("groupUniqArrayIf", [("Literal", "UInt64_100")], False),
        ("groupArraySorted", [("Literal", "UInt64_100000000")], True),
        ("groupArrayInsertAt", [("Literal", "UInt64_0"), ("Literal", "UInt64_10")], False),
        ("groupArrayInsertAt", [("Literal", "UInt64_0"), ("Literal", "UInt64_100000000")], True),
        ("groupConcat", [], False),
        ("groupConcat", [("Literal", "','"), ("Literal", "UInt64_100")], False),
        ("groupConcat", [("Literal", "','"), ("Literal", "UInt64_100000000")], True),
        ("groupArrayMovingSum", [("Literal", "UInt64_3")], True),
        ("groupArrayMovingAvgIf", [], True),
        ("groupArrayIntersect", [], False),
        ("sum", [("Literal", "UInt64_100000000")], False),
    ],
)
def test_a_gathering_aggregates_size_is_a_small_literal_when_given(
    name: str, parameters: list[tuple[str, str]], refused: bool
) -> None:
    problem = cost_problem(name, [("Identifier", "x")], parameters)
    assert (problem is not None) == refused, problem
