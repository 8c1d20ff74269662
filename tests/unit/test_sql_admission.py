"""The /sql allow-list and the guard's name checks, on parse trees written out by hand (no engine)."""

from __future__ import annotations

import pytest

from gateway.errors import BadRequest
from gateway.sqlguard.allowlist import allowed, parse
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
