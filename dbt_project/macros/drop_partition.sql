{#- Drop one partition (by id) of the model being built. On a cluster the partitions live in the shards' local
    tables: drop them there, on every shard. -#}
{% macro drop_partition(partition_id) %}
    {% set table = this.incorporate(path={"identifier": this.identifier ~ adapter.get_clickhouse_local_suffix()})
        if on_cluster() else this %}
    {% set drop %}
        alter table {{ table }} {{ on_cluster_clause(this) }}
        drop partition id '{{ partition_id }}'
    {% endset %}
    {% do run_query(drop) %}
{% endmacro %}
