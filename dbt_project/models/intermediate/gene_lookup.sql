{#- Each gene's unique name by (dataset, matrix row), as an in-memory dictionary for the expression insert. -#}
{{ config(
    materialized='dictionary',
    fields=[('gene_key', 'UInt64'), ('gene', 'String')],
    primary_key='gene_key',
    layout='HASHED()',
    lifetime='0',
) }}

with

genes as (

    select * from {{ ref('genes') }}

),

final as (

    select
        {{ lookup_key('dataset', 'gene_idx') }} as gene_key,
        gene

    from genes

)

select * from final
