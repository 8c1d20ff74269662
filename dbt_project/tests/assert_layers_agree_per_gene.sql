-- Per gene, the layers agree: cells expressing and totals in marts.genes equal the sums over gene_stats
-- (lognorm aside) and over pseudobulk (raw value).
with

genes as (select * from {{ ref('genes') }}),

from_stats as (

    select
        dataset,
        gene,
        sum(n_expressing) as n_expressing,
        sum(n_cells) as n_cells
    from {{ ref('gene_stats') }}
    group by dataset, gene

),

from_pseudobulk as (

    select
        dataset,
        gene,
        sum(sum_value) as total,
        sum(n_cells) as n_cells
    from {{ ref('pseudobulk') }}
    group by dataset, gene

),

datasets as (select * from {{ ref('datasets') }})

select
    genes.dataset,
    genes.gene,
    genes.n_cells_expressing,
    from_stats.n_expressing,
    genes.total,
    from_pseudobulk.total as pseudobulk_total
from genes
inner join datasets on genes.dataset = datasets.dataset
left join from_stats on genes.dataset = from_stats.dataset and genes.gene = from_stats.gene
left join from_pseudobulk on genes.dataset = from_pseudobulk.dataset and genes.gene = from_pseudobulk.gene
where
    genes.n_cells_expressing != coalesce(from_stats.n_expressing, 0)
    or coalesce(from_stats.n_cells, 0) != datasets.n_cells
    or coalesce(from_pseudobulk.n_cells, 0) != datasets.n_cells
    or abs(genes.total - coalesce(from_pseudobulk.total, 0)) > 1e-9 * greatest(abs(genes.total), 1)
