-- depends_on: {{ ref('datasets') }}
-- depends_on: {{ ref('expression') }}
{#- The rows of `expression` (the same `annotated_matrix_rows`, lognorm only) laid out for reads by gene: sorted
    by (dataset, gene_idx, cell), and written from the matrix in its gene order on one reading thread
    (dbt_project.yml), so each part holds one contiguous range of genes and a lookup of two genes touches one or
    two parts, whatever the cell types asked for. (`expression` keeps the cell-type-first order co-expression
    needs; its parts each hold every gene, and a two-gene read there pays ~0.4 ms per part: 10.5 ms at 170M
    non-zeros against 4.8 ms here.) Built per dataset and never re-merged, like `expression` (dbt_project.yml).
    Built after `expression` (the depends_on above) although it does not read it: the build runs two nodes at a
    time (profiles.yml) and the two 170M-row inserts at once peak at ~5.9 GB of memory (one after the other,
    with tests and smaller marts beside them: ~5.6 GB). -#}
{{ config(order_by='(dataset, gene_idx, cell)') }}

with

matrix as (

    select * from {{ ref('stg_raw__matrix') }}
    {{ where_load_not_built() }}

),

located as (

    {{ annotated_matrix_rows('matrix') }}

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cast(load_id as LowCardinality(String)) as load_id,
        gene_idx,
        cast(gene as LowCardinality(String)) as gene,
        cell,
        cast(cell_type as LowCardinality(String)) as cell_type,
        cast(sample as LowCardinality(String)) as sample,
        lognorm

    from located

)

select * from final
