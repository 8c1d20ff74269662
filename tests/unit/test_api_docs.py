"""The loader's public Python API (the functions `loader.__all__` exports) documents every parameter
(numpydoc, like anndata's readers), and the project has one version number."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version

import pytest

import genostream
import loader

PUBLIC = [f for f in (getattr(loader, name) for name in loader.__all__) if inspect.isfunction(f)]


def _section(doc: str, title: str) -> str:
    """The body of a numpydoc section (up to the next underlined title)."""
    match = re.search(rf"^{title}\n-+\n(.*?)(?=^\w[\w ]*\n-+\n|\Z)", doc, re.S | re.M)
    return match.group(1) if match else ""


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f.__name__)
def test_public_function_documents_parameters_returns_and_raises(function) -> None:
    doc = inspect.getdoc(function) or ""
    documented = {
        name.strip()
        for line in _section(doc, "Parameters").splitlines()
        if line and not line.startswith(" ")
        for name in line.split(",")
    }
    assert documented == set(inspect.signature(function).parameters), function.__name__
    returns = inspect.signature(function).return_annotation not in (None, "None")
    assert bool(_section(doc, "Returns")) == returns, function.__name__
    assert _section(doc, "Raises"), function.__name__


def test_the_api_is_covered() -> None:
    assert {f.__name__ for f in PUBLIC} >= {"load_dataset", "list_datasets", "drop_dataset", "check_study"}


def test_one_version_number() -> None:
    assert genostream.__version__ == loader.__version__ == version("genostream")
