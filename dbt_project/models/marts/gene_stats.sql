{{ config(order_by='(dataset, cell_type, gene)') }}

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

cell_types as (

    select
        dataset,
        cell_type,
        toUInt32(count()) as n_cells

    from cells
    group by dataset, cell_type

),

-- Moments of the stored (non-zero) values only; the zeros are added back below.
expressed as (

    select
        dataset,
        cell_type,
        gene,
        toUInt32(count()) as n_expressing,
        sum(lognorm) as sum_lognorm,
        sum(lognorm * lognorm) as sum_sq_lognorm,
        avg(lognorm) as mean_expressed,
        -- Welford (numerically stable) sum of squared deviations from the expressing cells' mean.
        varPopStable(lognorm) * count() as m2_expressed

    from expression
    group by dataset, cell_type, gene

),

-- Every gene × every cell type of its dataset: genes that are zero in a whole group get a row too.
groups as (

    select
        genes.dataset as dataset,
        cell_types.cell_type as cell_type,
        genes.gene as gene,
        cell_types.n_cells as n_cells

    from genes
    inner join cell_types
        on genes.dataset = cell_types.dataset

),

group_moments as (

    select
        groups.dataset as dataset,
        groups.cell_type as cell_type,
        groups.gene as gene,
        groups.n_cells as n_cells,
        toUInt32(coalesce(expressed.n_expressing, 0)) as n_expressing,
        toFloat64(coalesce(expressed.sum_lognorm, 0)) as sum_lognorm,
        toFloat64(coalesce(expressed.sum_sq_lognorm, 0)) as sum_sq_lognorm,
        toFloat64(coalesce(expressed.mean_expressed, 0)) as mean_expressed,
        toFloat64(coalesce(expressed.m2_expressed, 0)) as m2_expressed

    from groups
    left join expressed
        on groups.dataset = expressed.dataset
        and groups.cell_type = expressed.cell_type
        and groups.gene = expressed.gene

),

-- Chan et al.'s pairwise update with the group's n − k zeros (mean 0, no spread):
-- M2 = M2_expressed + k (n − k) / n · mean_expressed². Every term is ≥ 0, so nothing cancels.
with_zeros as (

    select
        *,
        sum_lognorm / n_cells as group_mean,
        m2_expressed + (
            toFloat64(n_expressing) * toFloat64(n_cells - n_expressing) / n_cells
            * mean_expressed * mean_expressed
        ) as m2

    from group_moments

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cast(cell_type as LowCardinality(String)) as cell_type,
        cast(gene as LowCardinality(String)) as gene,
        n_cells,
        n_expressing,
        toFloat64(n_expressing / n_cells) as pct_expressing,
        sum_lognorm as sum,
        sum_sq_lognorm as sum_sq,
        group_mean as mean,
        cast(if(n_cells > 1, m2 / (n_cells - 1), null) as Nullable(Float64)) as variance,
        cast(if(n_cells > 1, sqrt(m2 / (n_cells - 1)), null) as Nullable(Float64)) as stddev,
        cast(
            if(n_cells > 1 and group_mean != 0, sqrt(m2 / (n_cells - 1)) / group_mean, null)
            as Nullable(Float64)
        ) as cv,
        mean_expressed as mean_expressing

    from with_zeros

)

select * from final
