-- Every expression row carries its cell's annotation (dataset, cell, cell_type, sample as in marts.cells), and each
-- cell has exactly its n_genes_detected rows. Tested on the per-cell aggregate, grouped by the cell alone: the
-- least and the greatest hash of its rows' cell_type (and sample) both equal the hash of the cell's own only when
-- every row carries it (barring a 64-bit collision). As strong as a per-row relationship test plus a row count
-- per cell, without probing a set with each of 170M rows; hashes of the LowCardinality columns are computed once
-- per distinct value, so this groups faster than by the four keys or by the strings' least and greatest.
with

expression_cells as (

    select
        dataset,
        cell,
        min(cityHash64(cell_type)) as least_cell_type_hash,
        max(cityHash64(cell_type)) as greatest_cell_type_hash,
        min(cityHash64(sample)) as least_sample_hash,
        max(cityHash64(sample)) as greatest_sample_hash,
        count() as n_rows
    from {{ ref('expression') }}
    group by dataset, cell

),

cells as (select * from {{ ref('cells') }})

select
    expression_cells.dataset as expression_dataset,
    expression_cells.cell as expression_cell,
    expression_cells.n_rows,
    cells.dataset as cells_dataset,
    cells.cell as cells_cell,
    cells.cell_type as cells_cell_type,
    cells.sample as cells_sample,
    cells.n_genes_detected,
    expression_cells.least_cell_type_hash != expression_cells.greatest_cell_type_hash
    or expression_cells.least_sample_hash != expression_cells.greatest_sample_hash as rows_disagree
from expression_cells
full outer join cells
    on
    expression_cells.dataset = cells.dataset
    and expression_cells.cell = cells.cell
-- unmatched sides read 0 (or NULL with join_use_nulls): a row on one side only is a mismatch unless both are 0
where
    coalesce(expression_cells.n_rows, 0) != coalesce(cells.n_genes_detected, 0)
    or (
        coalesce(expression_cells.n_rows, 0) > 0
        and (
            expression_cells.least_cell_type_hash != cityHash64(cells.cell_type)
            or expression_cells.greatest_cell_type_hash != cityHash64(cells.cell_type)
            or expression_cells.least_sample_hash != cityHash64(cells.sample)
            or expression_cells.greatest_sample_hash != cityHash64(cells.sample)
        )
    )
