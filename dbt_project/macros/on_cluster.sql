{#- True when the target is a ClickHouse cluster (profiles.yml `cluster` target, any target with `cluster:` set):
    models then materialize as Distributed tables over per-shard local tables, and macros that alter tables
    act ON CLUSTER on the local tables. Usable at parse time (config blocks), needs no connection. -#}
{% macro on_cluster() %}
    {{ return((target.get('cluster') or '') | trim != '') }}
{% endmacro %}
