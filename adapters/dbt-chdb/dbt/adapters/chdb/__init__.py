"""dbt adapter `chdb`: dbt-clickhouse on the embedded engine.

Everything — macros, materializations, relations, columns — is inherited from dbt-clickhouse (the plugin
declares it as a dependency, so `clickhouse__*` macros dispatch for `chdb`); only opening a connection
differs: clickhouse-connect's in-process chDB client instead of HTTP.
"""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.chdb.connections import ChdbConnectionManager, ChdbCredentials
from dbt.adapters.chdb.impl import ChdbAdapter
from dbt.include import chdb

__version__ = "0.1.0"

Plugin = AdapterPlugin(
    adapter=ChdbAdapter,
    credentials=ChdbCredentials,
    include_path=chdb.PACKAGE_PATH,
    dependencies=["clickhouse"],
)

__all__ = ["ChdbAdapter", "ChdbConnectionManager", "ChdbCredentials", "Plugin", "__version__"]
