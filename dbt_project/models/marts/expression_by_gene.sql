-- depends_on: {{ ref('datasets') }}
{#- The rows of `expression` (the same `annotated_matrix_rows`, lognorm only) laid out for reads by gene: sorted
    by (dataset, gene_idx, cell), and written from the matrix in its gene order on one reading thread
    (dbt_project.yml), so each part holds one contiguous range of genes and a lookup of two genes touches one or
    two parts, whatever the cell types asked for. (`expression` keeps the cell-type-first order co-expression
    needs; its parts each hold every gene, and a two-gene read there pays ~0.4 ms per part: 10.5 ms at 170M
    non-zeros against 4.8 ms here.) Built per dataset and never re-merged, like `expression` (dbt_project.yml).
    Built beside `expression`, not after it: its one reading thread leaves a core that the other insert uses,
    and it does not wait for `expression`'s tests (README, "What each step holds in memory": the two inserts'
    blocks at once). -#}
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
