{{ config(order_by='(dataset, sample, cell_type, gene)') }}

with

expression as (

    select * from {{ ref('expression') }}

),

genes as (

    select * from {{ ref('genes') }}

),

cells as (

    select * from {{ ref('cells') }}

),

sample_groups as (

    select
        dataset,
        sample,
        cell_type,
        toUInt32(count()) as n_cells

    from cells
    group by dataset, sample, cell_type

),

summed as (

    select
        dataset,
        sample,
        cell_type,
        gene,
        sum(value) as sum_value

    from expression
    group by dataset, sample, cell_type, gene

),

-- Dense, like a count matrix handed to DESeq2: every gene in every sample × cell type group.
final as (

    select
        cast(genes.dataset as LowCardinality(String)) as dataset,
        cast(sample_groups.sample as LowCardinality(String)) as sample,
        cast(sample_groups.cell_type as LowCardinality(String)) as cell_type,
        cast(genes.gene as LowCardinality(String)) as gene,
        sample_groups.n_cells as n_cells,
        toFloat64(coalesce(summed.sum_value, 0)) as sum_value

    from genes
    inner join sample_groups
        on genes.dataset = sample_groups.dataset
    left join summed
        on sample_groups.dataset = summed.dataset
        and sample_groups.sample = summed.sample
        and sample_groups.cell_type = summed.cell_type
        and genes.gene = summed.gene

)

select * from final
