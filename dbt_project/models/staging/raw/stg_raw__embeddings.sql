with

source as (

    select * from {{ source('raw', 'embeddings') }}
    where {{ in_current_load(ref('stg_raw__loads')) }}

),

renamed as (

    select
        dataset,
        load_id,
        embedding,
        barcode,
        x,
        y

    from source

)

select * from renamed
