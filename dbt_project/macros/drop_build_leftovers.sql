{#- on-run-start: a build killed mid-model (kill -9, power loss) leaves dbt-clickhouse's scratch tables behind in
    the schemas analysts query — `<model>__dbt_new_data_<invocation id>` (a new name every run, so no later run
    ever reuses or drops it), `__dbt_tmp`, `__dbt_backup`, `__dbt_view_tmp`, `__dbt_distributed_new_data`,
    `__dbt_exchange_test_*`. No build is running when this one starts (one build at a time per store), so every
    such table in this project's schemas is a leftover: drop it. Same SQL on chDB and a server. -#}
{% macro drop_build_leftovers() %}
    {% if execute %}
        {% set schemas = [] %}
        {% for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') %}
            {% if node.schema not in schemas %}{% do schemas.append(node.schema) %}{% endif %}
        {% endfor %}
        {% set leftovers = run_query(
            "select database, name from system.tables where database in ('" ~ schemas | join("', '") ~ "')"
            ~ " and match(name, '__dbt_(new_data|distributed_new_data|tmp|view_tmp|backup|exchange_test)')"
        ) %}
        {% for row in leftovers.rows %}
            {{ log("dropping " ~ row[0] ~ "." ~ row[1] ~ ", left behind by an interrupted build", info=true) }}
            {% do run_query(
                "drop table if exists `" ~ row[0] ~ "`.`" ~ row[1] ~ "`"
                ~ (" on cluster '" ~ target.cluster ~ "' sync" if on_cluster() else "")
            ) %}
        {% endfor %}
    {% endif %}
{% endmacro %}
