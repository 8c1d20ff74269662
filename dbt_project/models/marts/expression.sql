-- depends_on: {{ ref('datasets') }}
{#- Built per dataset, incrementally, and never re-merged: the config both expression marts share is in
    dbt_project.yml (`per_dataset_incremental`). Sorted so that everything about one cell type is one range.
    The rows are `expression_by_gene`'s (already joined with their annotation, `lognorm` computed), sorted
    again: one join of the matrix serves both marts. Like CELLxGENE's X, a row names its cell by index; the
    barcode is the cell's, in `cells` (a per-row barcode was half of this insert's time and of its bytes). -#}
{{ config(order_by='(dataset, cell_type, gene, cell)') }}

with

by_gene as (

    select * from {{ ref('expression_by_gene') }}
    {{ where_load_not_built() }}

),

final as (

    select
        dataset,
        load_id,
        gene,
        cell,
        cell_type,
        sample,
        value,
        lognorm

    from by_gene

)

select * from final
