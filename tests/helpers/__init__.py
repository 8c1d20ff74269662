"""Code the tests import: study paths and writers, numpy oracles, dbt and query helpers (fixtures live in the
conftest files, helpers here)."""
