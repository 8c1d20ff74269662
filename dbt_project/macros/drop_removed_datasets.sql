{#- Post-hook of per-dataset incremental marts: insert_overwrite replaces the partitions of datasets that were
    (re)loaded, but a dataset that was dropped has no new rows to replace its partition with. Drop the partitions
    of every dataset no longer in `datasets`, so the mart holds exactly the current datasets. (Unit tests run
    the model's SQL only: nothing to do there.) -#}
{% macro drop_removed_datasets() %}
    {% if execute and model.resource_type == 'model' %}
        {% set stale = run_query(
            "select distinct _partition_id from " ~ this
            ~ " where dataset not in (select dataset from " ~ ref('datasets') ~ ")"
        ) %}
        {#- On a cluster the partitions live in the shards' local tables: drop them there, on every shard. -#}
        {% set table = this.incorporate(path={"identifier": this.identifier ~ adapter.get_clickhouse_local_suffix()})
            if on_cluster() else this %}
        {% for row in stale.rows %}
            {% do run_query(
                "alter table " ~ table ~ " " ~ on_cluster_clause(this) ~ " drop partition id '" ~ row[0] ~ "'"
            ) %}
        {% endfor %}
    {% endif %}
    select 1
{% endmacro %}
