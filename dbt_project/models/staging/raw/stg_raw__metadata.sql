with

source as (

    select * from {{ source('raw', 'metadata') }}
    where {{ in_current_load(ref('stg_raw__loads')) }}

),

renamed as (

    select
        dataset,
        load_id,
        barcode,
        cell_type,
        sample,
        group_attributes,
        numeric_attributes

    from source

)

select * from renamed
