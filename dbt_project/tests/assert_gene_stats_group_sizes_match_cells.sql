-- gene_stats is dense: every gene × every cell type, each row carrying the cell type's size from marts.cells.
with

cell_types as (

    select
        dataset,
        cell_type,
        count() as n_cells
    from {{ ref('cells') }}
    group by dataset, cell_type

),

genes as (
    select
        dataset,
        count() as n_genes
    from {{ ref('genes') }}
    group by dataset
),

stats_groups as (

    select
        dataset,
        cell_type,
        min(n_cells) as min_n,
        max(n_cells) as max_n,
        count() as n_rows
    from {{ ref('gene_stats') }}
    group by dataset, cell_type

)

select
    cell_types.dataset,
    cell_types.cell_type,
    cell_types.n_cells,
    stats_groups.min_n,
    stats_groups.max_n,
    stats_groups.n_rows,
    genes.n_genes
from cell_types
inner join genes on cell_types.dataset = genes.dataset
left join stats_groups
    on cell_types.dataset = stats_groups.dataset
    and cell_types.cell_type = stats_groups.cell_type
where
    coalesce(stats_groups.min_n, 0) != cell_types.n_cells
    or coalesce(stats_groups.max_n, 0) != cell_types.n_cells
    or coalesce(stats_groups.n_rows, 0) != genes.n_genes
