{#- Databases are exactly `staging`, `intermediate` and `marts` (not dbt's default `<target>_<custom>`):
    analysts, the gateway and the loader address them by these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
