{{ config(query_settings={'optimize_aggregation_in_order': 1}) }}
-- Per dataset and gene of marts.genes, each expression mart holds its n_cells_expressing rows, and both hold the
-- same rows: the sum of a 64-bit hash of each row's (cell, lognorm), a fingerprint of the rows as a multiset,
-- agrees (barring a collision). `expression_by_gene` is unique per (dataset, gene_idx, cell) — its own test —
-- so `expression` is too, and every row of either names a gene of marts.genes. Each mart is aggregated in its
-- own sort order (`optimize_aggregation_in_order`: no hash table over the rows), `expression` per cell type
-- and gene first.
with

genes as (select * from {{ ref('genes') }}),

by_gene_rows as (

    select
        dataset,
        gene_idx,
        count() as n_rows,
        sum(cityHash64(cell, lognorm)) as fingerprint
    from {{ ref('expression_by_gene') }}
    group by dataset, gene_idx

),

expression_per_cell_type as (

    select
        dataset,
        cell_type,
        gene,
        count() as n_rows,
        sum(cityHash64(cell, lognorm)) as fingerprint
    from {{ ref('expression') }}
    group by dataset, cell_type, gene

),

expression_rows as (

    select
        dataset,
        gene,
        sum(n_rows) as n_rows,
        sum(fingerprint) as fingerprint
    from expression_per_cell_type
    group by dataset, gene

),

-- unmatched sides read 0 or '' (or NULL with join_use_nulls): coalesce makes a row on one side only a mismatch
genes_and_by_gene as (

    select
        genes.dataset as dataset,
        genes.gene as gene,
        genes.n_cells_expressing as n_cells_expressing,
        by_gene_rows.gene_idx as by_gene_gene_idx,
        by_gene_rows.n_rows as by_gene_rows,
        by_gene_rows.fingerprint as by_gene_fingerprint
    from genes
    full outer join by_gene_rows
        on
        genes.dataset = by_gene_rows.dataset
        and genes.gene_idx = by_gene_rows.gene_idx

)

select
    genes_and_by_gene.dataset as genes_dataset,
    genes_and_by_gene.gene as genes_gene,
    genes_and_by_gene.n_cells_expressing,
    genes_and_by_gene.by_gene_gene_idx,
    genes_and_by_gene.by_gene_rows,
    expression_rows.dataset as expression_dataset,
    expression_rows.gene as expression_gene,
    expression_rows.n_rows as expression_rows
from genes_and_by_gene
full outer join expression_rows
    on
    genes_and_by_gene.dataset = expression_rows.dataset
    and genes_and_by_gene.gene = expression_rows.gene
where
    coalesce(genes_and_by_gene.by_gene_rows, 0) != coalesce(genes_and_by_gene.n_cells_expressing, 0)
    or coalesce(expression_rows.n_rows, 0) != coalesce(genes_and_by_gene.n_cells_expressing, 0)
    or coalesce(expression_rows.fingerprint, 0) != coalesce(genes_and_by_gene.by_gene_fingerprint, 0)
