{#- A 32-bit integer key of a dataset name: the high half of every `lookup_key`. Stored as
    `datasets.dataset_key`, which is tested unique, so two datasets can never share lookup keys. -#}
{% macro dataset_key(dataset) -%}
    toUInt32(cityHash64({{ dataset }}) % 4294967291)
{%- endmacro %}
