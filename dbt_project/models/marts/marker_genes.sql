{{ config(order_by='(dataset, cell_type, gene)') }}

with

gene_stats as (

    select * from {{ ref('gene_stats') }}

),

group_moments as (

    select
        dataset,
        cell_type,
        gene,
        n_cells,
        n_expressing,
        sum,
        mean,
        variance,
        -- sum of squared deviations from the group mean (0 for a one-cell group)
        coalesce(variance * (n_cells - 1), 0) as m2

    from gene_stats

),

-- Each group paired with every other group of its dataset and gene: together they are the "rest".
other_groups as (

    select
        this.dataset as dataset,
        this.cell_type as cell_type,
        this.gene as gene,
        other.n_cells as other_n,
        other.n_expressing as other_expressing,
        other.sum as other_sum,
        other.mean as other_mean,
        other.m2 as other_m2

    from group_moments as this
    inner join group_moments as other
        on this.dataset = other.dataset
        and this.gene = other.gene
    where this.cell_type != other.cell_type

),

-- The rest's moments from its groups' (Chan et al.): M2 = Σ M2_g + Σ n_g (mean_g − mean_rest)², no cancellation.
rest as (

    select
        dataset,
        cell_type,
        gene,
        sum(other_n) as n_out,
        sum(other_expressing) as expressing_out,
        sum(other_sum) / n_out as mean_out,
        arraySum(
            (n, m, q) -> q + n * pow(m - mean_out, 2),
            groupArray(other_n), groupArray(other_mean), groupArray(other_m2)
        ) as m2_out

    from other_groups
    group by dataset, cell_type, gene

),

compared as (

    select
        group_moments.dataset as dataset,
        group_moments.cell_type as cell_type,
        group_moments.gene as gene,
        group_moments.n_cells as n_in,
        toUInt32(coalesce(rest.n_out, 0)) as n_rest,
        group_moments.mean as mean_in,
        if(n_rest > 0, rest.mean_out, null) as mean_rest,
        group_moments.variance as var_in,
        if(n_rest > 1, rest.m2_out / (n_rest - 1), null) as var_rest,
        group_moments.n_expressing / group_moments.n_cells as pct_in,
        if(n_rest > 0, rest.expressing_out / n_rest, null) as pct_rest,
        var_in / n_in as se2_in,
        var_rest / n_rest as se2_rest

    from group_moments
    left join rest
        on group_moments.dataset = rest.dataset
        and group_moments.cell_type = rest.cell_type
        and group_moments.gene = rest.gene

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cast(cell_type as LowCardinality(String)) as cell_type,
        cast(gene as LowCardinality(String)) as gene,
        n_in,
        n_rest as n_out,
        mean_in,
        cast(mean_rest as Nullable(Float64)) as mean_out,
        var_in,
        cast(var_rest as Nullable(Float64)) as var_out,
        toFloat64(pct_in) as pct_in,
        cast(pct_rest as Nullable(Float64)) as pct_out,
        cast(
            log2(({{ expm1('mean_in') }} + 1e-9) / ({{ expm1('mean_rest') }} + 1e-9))
            as Nullable(Float64)
        ) as log2_fold_change,
        -- Welch's t from summary statistics (scipy ttest_ind_from_stats, equal_var=False). NULL when a
        -- variance is undefined (a group of one cell) or both are 0 (scipy: nan).
        cast(
            if(se2_in + se2_rest > 0, (mean_in - mean_rest) / sqrt(se2_in + se2_rest), null)
            as Nullable(Float64)
        ) as t_statistic,
        cast(
            if(
                se2_in + se2_rest > 0,
                pow(se2_in + se2_rest, 2) / (pow(se2_in, 2) / (n_in - 1) + pow(se2_rest, 2) / (n_rest - 1)),
                null
            )
            as Nullable(Float64)
        ) as df

    from compared

)

select * from final
