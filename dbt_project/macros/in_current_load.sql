{#- The raw tables may still hold partitions of superseded, failed or in-flight loads: staging keeps only the
    rows of each dataset's current load. `(dataset, load_id)` leads every raw table's sort key, so ClickHouse
    prunes the other loads' parts through the primary index instead of scanning them. -#}
{% macro in_current_load(current_loads) -%}
    (dataset, load_id) in (select dataset, load_id from {{ current_loads }})
{%- endmacro %}
