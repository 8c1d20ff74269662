"""The guard of POST /sql: what an analyst's query may run (`guard.admit`, the function allow-list of
`allowlist` and `sql_functions.txt`) and how its answer is encoded (`result`)."""
