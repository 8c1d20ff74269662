{#- dbt-clickhouse's wrapper of a data test's query, with the test's `query_settings` (its config, as a model's)
    on that outer query. Settings written inside a test's SQL reach its subquery only, and the engine reads some
    from the outer query alone: `optimize_aggregation_in_order`, which spares a test over 170M rows its hash
    table. -#}
{% macro clickhouse__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    {{ dbt.clickhouse__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) }}
    {{ adapter.get_model_query_settings(model) }}
{%- endmacro %}
