"""The guard of analysts' SQL (POST /sql and the ClickHouse port): what a query may run (`guard.admit`, and
`port.admit_port` with the catalog views of `introspection`; the function allow-list of `allowlist` and
`sql_functions.txt`) and how a /sql answer is encoded (`result`)."""
