{{ config(order_by='(dataset, embedding, cell)') }}

with

embeddings as (

    select * from {{ ref('stg_raw__embeddings') }}

),

barcodes as (

    select * from {{ ref('stg_raw__barcodes') }}

),

located as (

    -- Every embedded barcode is a matrix cell (the loader refuses others): the inner join drops nothing.
    select
        embeddings.dataset as dataset,
        embeddings.embedding as embedding,
        barcodes.cell_idx as cell_idx,
        embeddings.x as x,
        embeddings.y as y

    from embeddings
    inner join barcodes
        on embeddings.dataset = barcodes.dataset
        and embeddings.barcode = barcodes.barcode

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cast(embedding as LowCardinality(String)) as embedding,
        toUInt32(cell_idx) as cell,
        toFloat64(x) as x,
        toFloat64(y) as y

    from located

)

select * from final
