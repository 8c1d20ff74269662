{#- One UInt64 key for a (dataset, 0-based index) pair: a 32-bit key of the dataset name in the high half, the
    index in the low half. Build-time lookups (the `cell_lookup` and `gene_lookup` dictionaries) are keyed by it,
    so the 170M-row expression insert joins on one integer instead of hashing a string per row — the dataset
    hash is computed once per distinct name (LowCardinality). `datasets.dataset_key` is tested unique, so two
    datasets can never share keys. -#}
{% macro dataset_key(dataset) -%}
    toUInt32(cityHash64({{ dataset }}) % 4294967291)
{%- endmacro %}

{% macro lookup_key(dataset, index) -%}
    bitOr(bitShiftLeft(toUInt64({{ dataset_key(dataset) }}), 32), toUInt64({{ index }}))
{%- endmacro %}
