-- marts.cells holds exactly the manifest's n_cells cells per dataset, and genes its n_genes genes.
with

datasets as (select * from {{ ref('datasets') }}),

cell_counts as (
    select
        dataset,
        count() as n
    from {{ ref('cells') }}
    group by dataset
),

gene_counts as (
    select
        dataset,
        count() as n
    from {{ ref('genes') }}
    group by dataset
)

select
    datasets.dataset,
    datasets.n_cells,
    cell_counts.n as cells,
    datasets.n_genes,
    gene_counts.n as genes
from datasets
left join cell_counts on datasets.dataset = cell_counts.dataset
left join gene_counts on datasets.dataset = gene_counts.dataset
where
    coalesce(cell_counts.n, 0) != datasets.n_cells
    or coalesce(gene_counts.n, 0) != datasets.n_genes
