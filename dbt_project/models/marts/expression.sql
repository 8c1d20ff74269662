-- depends_on: {{ ref('datasets') }}
{#- Built per dataset, incrementally, and never re-merged: the config both expression marts share is in
    dbt_project.yml (`per_dataset_incremental`). Sorted so that everything about one cell type is one range.
    The rows are `expression_by_gene`'s (already joined with their annotation, `lognorm` computed) with the cell's
    barcode added: one join of the matrix serves both marts, and this insert reads columns that are already
    LowCardinality instead of joining and encoding 170M rows a second time. -#}
{{ config(order_by='(dataset, cell_type, gene, cell)') }}

with

by_gene as (

    select * from {{ ref('expression_by_gene') }}
    {{ where_load_not_built() }}

),

-- The barcode from the in-memory `cell_lookup` dictionary, joined on its integer key (the engine's `direct`
-- join: a lookup per row).
with_barcode as (

    select
        keyed.dataset as dataset,
        keyed.load_id as load_id,
        keyed.gene as gene,
        keyed.cell as cell,
        cell_lookup.barcode as barcode,
        keyed.cell_type as cell_type,
        keyed.sample as sample,
        keyed.value as value,
        keyed.lognorm as lognorm

    from (
        select
            *,
            {{ lookup_key('dataset', 'cell') }} as cell_key
        from by_gene
    ) as keyed
    inner join {{ ref('cell_lookup') }} as cell_lookup
        on keyed.cell_key = cell_lookup.cell_key

),

final as (

    select
        dataset,
        load_id,
        gene,
        cell,
        barcode,
        cell_type,
        sample,
        value,
        lognorm

    from with_barcode

)

select * from final
