{#- on-run-start: a build killed mid-model (kill -9, power loss) leaves dbt-clickhouse's scratch tables behind in
    the schemas analysts query — `<model>__dbt_new_data_<invocation id>` (a new name every run, so no later run
    ever reuses or drops it), `__dbt_tmp`, `__dbt_backup`, `__dbt_view_tmp`, `__dbt_distributed_new_data`,
    `__dbt_exchange_test_*`. No build is running when this one starts (one build at a time per store), so every
    such table in this project's schemas is a leftover: drop it. So is a dictionary no model defines where it
    stands — the build's lookups were in `marts` before they moved to `intermediate`, and must not stay readable
    there. Same SQL on chDB and a server. -#}
{% macro drop_build_leftovers() %}
    {% if execute %}
        {% set defined_dictionaries = [] %}
        {% for node in graph.nodes.values() if node.resource_type == 'model' %}
            {% if node.config.materialized == 'dictionary' %}
                {% do defined_dictionaries.append(node.schema ~ '.' ~ node.alias) %}
            {% endif %}
        {% endfor %}
        {% set candidates %}
            select database, name, engine = 'Dictionary' as is_dictionary
            from system.tables
            where
                database in ({{ project_schemas() }})
                and (
                    match(name, '__dbt_(new_data|distributed_new_data|tmp|view_tmp|backup|exchange_test)')
                    or engine = 'Dictionary'
                )
            order by database, name
        {% endset %}
        {% for row in run_query(candidates).rows if not (row[2] and row[0] ~ '.' ~ row[1] in defined_dictionaries) %}
            {{ log("dropping " ~ row[0] ~ "." ~ row[1] ~ ", left behind by an earlier build", info=true) }}
            {% set drop_leftover %}
                drop {{ 'dictionary' if row[2] else 'table' }} if exists `{{ row[0] }}`.`{{ row[1] }}`
                {% if on_cluster() %}on cluster '{{ target.cluster }}' sync{% endif %}
            {% endset %}
            {% do run_query(drop_leftover) %}
        {% endfor %}
    {% endif %}
{% endmacro %}
