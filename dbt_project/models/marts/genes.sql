{{ config(order_by='(dataset, gene)') }}

with

genes as (

    select * from {{ ref('stg_raw__genes') }}

),

matrix as (

    select * from {{ ref('stg_raw__matrix') }}

),

gene_totals as (

    select
        dataset,
        gene_idx,
        toUInt32(count()) as n_cells_expressing,
        sum(value) as total

    from matrix
    group by dataset, gene_idx

),

final as (

    select
        cast(genes.dataset as LowCardinality(String)) as dataset,
        genes.gene as gene,
        genes.gene_idx as gene_idx,
        genes.gene_id as gene_id,
        genes.symbol as symbol,
        cast(genes.feature_type as LowCardinality(String)) as feature_type,
        toUInt32(coalesce(gene_totals.n_cells_expressing, 0)) as n_cells_expressing,
        toFloat64(coalesce(gene_totals.total, 0)) as total

    from genes
    left join gene_totals
        on genes.dataset = gene_totals.dataset
        and genes.gene_idx = gene_totals.gene_idx

)

select * from final
