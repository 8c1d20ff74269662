with

source as (

    select * from {{ source('raw', 'genes') }}
    where {{ in_current_load(ref('stg_raw__loads')) }}

),

renamed as (

    select
        dataset,
        load_id,
        toUInt32(gene_index - 1) as gene_idx,
        gene_id,
        gene,
        symbol,
        feature_type

    from source

)

select * from renamed
