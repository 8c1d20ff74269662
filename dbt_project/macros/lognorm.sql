{#- The one definition of `lognorm`: scanpy's normalize_total(target_sum=1e4) + log1p for counts; real values
    are already normalised and pass through. Every mart that stores lognorm derives it here. -#}
{% macro lognorm(value, total_counts, is_counts) -%}
    if({{ is_counts }}, log1p({{ value }} / {{ total_counts }} * 10000), {{ value }})
{%- endmacro %}
