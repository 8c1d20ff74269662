with

source as (

    select * from {{ source('raw', 'barcodes') }}
    where {{ in_current_load(ref('stg_raw__loads')) }}

),

renamed as (

    select
        dataset,
        load_id,
        toUInt32(cell_index - 1) as cell_idx,
        barcode

    from source

)

select * from renamed
