{#- What the expression insert needs per cell, as an in-memory dictionary: joined with `join_algorithm='direct'`
    it is a hash lookup per row instead of a hash join that copies every string column through. -#}
{{ config(
    materialized='dictionary',
    fields=[
        ('cell_key', 'UInt64'),
        ('cell_type', 'String'),
        ('sample', 'String'),
        ('total_counts', 'Float64'),
        ('is_counts', 'UInt8'),
    ],
    primary_key='cell_key',
    layout='HASHED()',
    lifetime='0',
) }}

with

cells as (

    select * from {{ ref('cells') }}

),

datasets as (

    select * from {{ ref('datasets') }}

),

final as (

    select
        {{ lookup_key('cells.dataset', 'cells.cell') }} as cell_key,
        toString(cells.cell_type) as cell_type,
        toString(cells.sample) as sample,
        cells.total_counts as total_counts,
        toUInt8(datasets.value_kind = 'counts') as is_counts

    from cells
    inner join datasets
        on cells.dataset = datasets.dataset

)

select * from final
