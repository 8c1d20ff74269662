with

current_loads as (

    select * from {{ source('raw', 'current_loads') }}

),

renamed as (

    select
        dataset,
        load_id,
        status,
        layout,
        value_kind,
        n_genes,
        n_cells,
        n_metadata_cells,
        nnz,
        cell_type_column,
        sample_column,
        source_files,
        loader_version,
        started_at,
        loaded_at

    from current_loads

)

select * from renamed
