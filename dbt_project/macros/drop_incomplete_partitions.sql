{#- Pre-hook of per-dataset incremental marts: a partition built from the current load but not holding exactly
    that load's `nnz` rows was damaged after it was built (the engine detached parts it found broken on start,
    e.g. after a full disk). Drop it, so this build recomputes the dataset instead of every build failing the
    row-count test until `--full-refresh`. Reads only `load_id` and partition ids. -#}
{% macro drop_incomplete_partitions() %}
    {% if execute and model.resource_type == 'model' and is_incremental() %}
        {% set incomplete %}
            with

            counted as (
                select
                    _partition_id as partition_id,
                    any(load_id) as load_id,
                    count() as n_rows
                from {{ this }}
                group by _partition_id
            )

            select counted.partition_id
            from counted
            inner join {{ ref('datasets') }} as datasets
                on counted.load_id = datasets.load_id
            where counted.n_rows != datasets.nnz
        {% endset %}
        {% for row in run_query(incomplete).rows %}
            {{ log("rebuilding " ~ this ~ " partition " ~ row[0] ~ ": its rows do not match its load", info=true) }}
            {% do drop_partition(row[0]) %}
        {% endfor %}
    {% endif %}
    select 1
{% endmacro %}
