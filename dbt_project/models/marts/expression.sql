{{ config(
    order_by='(dataset, gene, cell_type, cell)',
    partition_by='dataset',
) }}

with

matrix as (

    select * from {{ ref('stg_raw__matrix') }}

),

genes as (

    select * from {{ ref('genes') }}

),

cells as (

    select * from {{ ref('cells') }}

),

datasets as (

    select * from {{ ref('datasets') }}

),

-- The big side (the matrix) streams through; genes, cells and datasets are hashed (dictionary-sized).
located as (

    select
        matrix.dataset as dataset,
        genes.gene as gene,
        matrix.cell_idx as cell,
        cells.barcode as barcode,
        cells.cell_type as cell_type,
        cells.sample as sample,
        matrix.value as value,
        cells.total_counts as total_counts,
        datasets.value_kind as value_kind

    from matrix
    inner join genes
        on matrix.dataset = genes.dataset
        and matrix.gene_idx = genes.gene_idx
    inner join cells
        on matrix.dataset = cells.dataset
        and matrix.cell_idx = cells.cell
    inner join datasets
        on matrix.dataset = datasets.dataset

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cast(gene as LowCardinality(String)) as gene,
        cell,
        barcode,
        cell_type,
        sample,
        value,
        -- scanpy normalize_total(target_sum=1e4) + log1p for counts; real values are already normalised.
        if(value_kind = 'counts', log1p(value / total_counts * 10000), value) as lognorm

    from located

)

select * from final
