{#- One UInt64 key for a (dataset, 0-based index) pair: the dataset's `dataset_key` in the high half, the index in
    the low half. Build-time lookups (the `cell_lookup` and `gene_lookup` dictionaries) are keyed by it, so the
    170M-row expression insert joins on one integer instead of hashing a string per row — the dataset hash is
    computed once per distinct name (LowCardinality). -#}
{% macro lookup_key(dataset, index) -%}
    bitOr(bitShiftLeft(toUInt64({{ dataset_key(dataset) }}), 32), toUInt64({{ index }}))
{%- endmacro %}
