{{ config(order_by='dataset') }}

with

current_loads as (

    select * from {{ ref('stg_raw__loads') }}

),

final as (

    select
        dataset,
        load_id,
        cast(layout as String) as layout,
        cast(value_kind as String) as value_kind,
        n_genes,
        n_cells,
        n_metadata_cells,
        nnz,
        cell_type_column,
        sample_column,
        loaded_at,
        {{ dataset_key('dataset') }} as dataset_key

    from current_loads

)

select * from final
