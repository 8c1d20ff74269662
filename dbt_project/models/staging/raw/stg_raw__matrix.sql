with

source as (

    select * from {{ source('raw', 'matrix') }}
    where {{ in_current_load(ref('stg_raw__loads')) }}

),

renamed as (

    select
        dataset,
        load_id,
        toUInt32(gene_index - 1) as gene_idx,
        toUInt32(cell_index - 1) as cell_idx,
        value

    from source
    where value != 0

)

select * from renamed
