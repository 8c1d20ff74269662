{#- exp(x) - 1 without losing precision near 0 (ClickHouse has log1p but no expm1): Kahan's trick
    (u - 1) · x / ln(u) with u = exp(x), exact to a few ulps; used for scanpy's log2 fold change. -#}
{% macro expm1(x) -%}
    if(exp({{ x }}) = 1, {{ x }}, (exp({{ x }}) - 1) * {{ x }} / log(exp({{ x }})))
{%- endmacro %}
