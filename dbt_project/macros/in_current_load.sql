{#- The raw tables may still hold partitions of superseded, failed or in-flight loads: staging keeps only the
    rows of each dataset's current load. A load_id names one load of one dataset, so filtering on it alone is
    exact; it is also far cheaper than a (dataset, load_id) tuple test per row, and the primary index (led by
    (dataset, load_id)) prunes the other loads' parts. -#}
{% macro in_current_load(current_loads) -%}
    load_id in (select load_id from {{ current_loads }})
{%- endmacro %}
