-- depends_on: {{ ref('datasets') }}
{#- Built per dataset, incrementally, and never re-merged: the config both expression marts share is in
    dbt_project.yml (`per_dataset_incremental`). Sorted so that everything about one cell type is one range. -#}
{{ config(order_by='(dataset, cell_type, gene, cell)') }}

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
        cast(gene as LowCardinality(String)) as gene,
        cell,
        barcode,
        cast(cell_type as LowCardinality(String)) as cell_type,
        cast(sample as LowCardinality(String)) as sample,
        value,
        lognorm

    from located

)

select * from final
