-- expression_by_gene holds exactly the rows of expression: per dataset and gene, the same number of cells and
-- the same Σ lognorm and Σ cell (aggregates of both marts, not a row-by-row probe of 170M rows).
with

expression_genes as (

    select
        dataset,
        gene,
        count() as n_rows,
        sum(lognorm) as lognorm_sum,
        sum(cell) as cell_sum
    from {{ ref('expression') }}
    group by dataset, gene

),

by_gene_genes as (

    select
        dataset,
        gene,
        count() as n_rows,
        sum(lognorm) as lognorm_sum,
        sum(cell) as cell_sum
    from {{ ref('expression_by_gene') }}
    group by dataset, gene

)

select
    coalesce(expression_genes.dataset, by_gene_genes.dataset) as dataset,
    coalesce(expression_genes.gene, by_gene_genes.gene) as gene,
    expression_genes.n_rows as expression_rows,
    by_gene_genes.n_rows as by_gene_rows
from expression_genes
full outer join by_gene_genes
    on expression_genes.dataset = by_gene_genes.dataset and expression_genes.gene = by_gene_genes.gene
where
    expression_genes.n_rows is null
    or by_gene_genes.n_rows is null
    or expression_genes.n_rows != by_gene_genes.n_rows
    or expression_genes.cell_sum != by_gene_genes.cell_sum
    or abs(expression_genes.lognorm_sum - by_gene_genes.lognorm_sum)
    > 1e-9 * greatest(abs(expression_genes.lognorm_sum), 1)
