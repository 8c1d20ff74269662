-- Summing gene_stats over every cell type and gene gives the dataset's total lognorm (no cell lost or doubled).
with

stats_totals as (

    select
        dataset,
        sum(sum) as stats_sum,
        sum(n_expressing) as stats_nnz
    from {{ ref('gene_stats') }}
    group by dataset

),

expression_totals as (

    select
        dataset,
        sum(lognorm) as lognorm_sum,
        count() as nnz
    from {{ ref('expression') }}
    group by dataset

)

select
    stats_totals.*,
    expression_totals.lognorm_sum,
    expression_totals.nnz
from stats_totals
full outer join expression_totals on stats_totals.dataset = expression_totals.dataset
where
    abs(stats_totals.stats_sum - expression_totals.lognorm_sum)
    > 1e-9 * greatest(abs(expression_totals.lognorm_sum), 1)
    or stats_totals.stats_nnz != expression_totals.nnz
