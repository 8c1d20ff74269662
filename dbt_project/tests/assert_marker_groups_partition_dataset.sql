-- "Rest" is every other cell: n_in + n_out is the dataset's cell count, and the in/out means recombine to the
-- gene's overall mean.
with

markers as (select * from {{ ref('marker_genes') }}),

datasets as (select * from {{ ref('datasets') }}),

gene_means as (

    select
        dataset,
        gene,
        sum(sum) / sum(n_cells) as overall_mean
    from {{ ref('gene_stats') }}
    group by dataset, gene

)

select
    markers.dataset,
    markers.cell_type,
    markers.gene,
    markers.n_in,
    markers.n_out,
    datasets.n_cells
from markers
inner join datasets on markers.dataset = datasets.dataset
inner join gene_means on markers.dataset = gene_means.dataset and markers.gene = gene_means.gene
where
    markers.n_in + markers.n_out != datasets.n_cells
    or abs(
        (markers.mean_in * markers.n_in + coalesce(markers.mean_out, 0) * markers.n_out) / datasets.n_cells
        - gene_means.overall_mean
    ) > 1e-9 * greatest(abs(gene_means.overall_mean), 1)
