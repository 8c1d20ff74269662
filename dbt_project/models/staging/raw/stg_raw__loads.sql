with

source as (

    select * from {{ source('raw', 'loads') }} final

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
        cast(coalesce(finished_at, started_at) as DateTime64(3, 'UTC')) as loaded_at

    from source

),

current_loads as (

    select * from renamed
    where status = 'loaded'
    order by dataset, loaded_at desc, load_id desc
    limit 1 by dataset

)

select * from current_loads
