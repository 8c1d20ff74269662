-- Every expression row names a gene of marts.genes, and each gene has exactly its n_cells_expressing rows.
-- Tested on the per-gene aggregate (stronger than a per-row relationship test, and one group per gene).
with

expression_genes as (

    select
        dataset,
        gene,
        count() as n_rows
    from {{ ref('expression') }}
    group by dataset, gene

),

genes as (select * from {{ ref('genes') }})

select
    expression_genes.dataset as expression_dataset,
    expression_genes.gene as expression_gene,
    expression_genes.n_rows,
    genes.dataset as genes_dataset,
    genes.gene as genes_gene,
    genes.n_cells_expressing
from expression_genes
full outer join genes
    on
    expression_genes.dataset = genes.dataset
    and expression_genes.gene = genes.gene
where coalesce(expression_genes.n_rows, 0) != coalesce(genes.n_cells_expressing, 0)
