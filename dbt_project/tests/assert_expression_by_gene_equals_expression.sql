-- expression_by_gene holds exactly the rows of expression: per dataset and gene, the same number of cells and
-- the same Σ lognorm and Σ cell (aggregates of both marts in one pass, not a row-by-row probe of 170M rows).
with

rows_of_both as (

    select
        false as in_by_gene,
        dataset,
        gene,
        cell,
        lognorm
    from {{ ref('expression') }}

    union all

    select
        true as in_by_gene,
        dataset,
        gene,
        cell,
        lognorm
    from {{ ref('expression_by_gene') }}

),

per_gene as (

    select
        dataset,
        gene,
        countIf(not in_by_gene) as expression_rows,
        countIf(in_by_gene) as by_gene_rows,
        sumIf(cell, not in_by_gene) as expression_cell_sum,
        sumIf(cell, in_by_gene) as by_gene_cell_sum,
        sumIf(lognorm, not in_by_gene) as expression_lognorm_sum,
        sumIf(lognorm, in_by_gene) as by_gene_lognorm_sum
    from rows_of_both
    group by dataset, gene

)

select
    dataset,
    gene,
    expression_rows,
    by_gene_rows
from per_gene
where
    expression_rows != by_gene_rows
    or expression_cell_sum != by_gene_cell_sum
    or abs(expression_lognorm_sum - by_gene_lognorm_sum) > 1e-9 * greatest(abs(expression_lognorm_sum), 1)
