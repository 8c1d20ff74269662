{#- The matrix rows of `matrix` (a relation or CTE of stg_raw__matrix's columns), each with its gene and its cell's
    annotation and `lognorm`: the one join of the matrix with its annotation, in `expression_by_gene`
    (which `expression` is built from). Genes and cells are looked up by
    one integer key in the in-memory dictionaries (`gene_lookup`, `cell_lookup`), joined as dictionaries (not
    through CTEs) so the engine's `direct` join algorithm applies: a hash lookup per row instead of a hash join
    that copies every string column of 170M rows through (≈3× less CPU). -#}
{% macro annotated_matrix_rows(matrix) -%}
    select
        keyed.dataset as dataset,
        keyed.load_id as load_id,
        keyed.gene_idx as gene_idx,
        gene_lookup.gene as gene,
        keyed.cell_idx as cell,
        cell_lookup.cell_type as cell_type,
        cell_lookup.sample as sample,
        keyed.value as value,
        {{ lognorm('keyed.value', 'cell_lookup.total_counts', 'cell_lookup.is_counts = 1') }} as lognorm

    from (
        select
            dataset,
            load_id,
            gene_idx,
            cell_idx,
            value,
            {{ lookup_key('dataset', 'gene_idx') }} as gene_key,
            {{ lookup_key('dataset', 'cell_idx') }} as cell_key
        from {{ matrix }}
    ) as keyed
    inner join {{ ref('gene_lookup') }} as gene_lookup
        on keyed.gene_key = gene_lookup.gene_key
    inner join {{ ref('cell_lookup') }} as cell_lookup
        on keyed.cell_key = cell_lookup.cell_key
{%- endmacro %}
