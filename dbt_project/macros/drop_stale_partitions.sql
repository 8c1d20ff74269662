{#- Post-hook of per-dataset incremental marts. insert_overwrite replaces the partitions of datasets whose new
    load has rows, but leaves alone a partition nothing new was written to: that of a dataset that was dropped,
    or reloaded with no rows at all (every entry an explicit zero). Drop every partition built from a load that is
    no longer its dataset's current one, so the mart holds exactly the current loads. (Unit tests run the model's
    SQL only: nothing to do there.) -#}
{% macro drop_stale_partitions() %}
    {% if execute and model.resource_type == 'model' %}
        {% set stale %}
            select distinct _partition_id
            from {{ this }}
            where load_id not in (select datasets.load_id from {{ ref('datasets') }} as datasets)
        {% endset %}
        {% for row in run_query(stale).rows %}
            {% do drop_partition(row[0]) %}
        {% endfor %}
    {% endif %}
    select 1
{% endmacro %}
