"""ClickHouse's HTTP interface, read-only, on a port of its own (GENOSTREAM_GATEWAY_CLICKHOUSE_PORT).

The stock ClickHouse clients (clickhouse-connect and its SQLAlchemy dialect, DBeaver, Grafana, curl) speak
this protocol; the embedded store admits one process, so the gateway speaks it for them. Every query passes
the guard and limits of POST /sql (gateway.sqlguard); this package only speaks the protocol around it.
"""
