-- Every expression row carries its cell's annotation (dataset, cell, cell_type, sample as in marts.cells), and each
-- cell has exactly its n_genes_detected rows. Tested on the per-cell aggregate, grouped by the cell alone (the
-- least and the greatest annotation of its rows both equal the cell's only when every row does): as strong as a
-- per-row relationship test plus a row count per cell, without probing a set with each of 170M rows or grouping
-- them on four keys.
with

expression_cells as (

    select
        dataset,
        cell,
        min(cell_type) as least_cell_type,
        max(cell_type) as greatest_cell_type,
        min(sample) as least_sample,
        max(sample) as greatest_sample,
        count() as n_rows
    from {{ ref('expression') }}
    group by dataset, cell

),

cells as (select * from {{ ref('cells') }})

select
    expression_cells.dataset as expression_dataset,
    expression_cells.cell as expression_cell,
    expression_cells.least_cell_type,
    expression_cells.greatest_cell_type,
    expression_cells.least_sample,
    expression_cells.greatest_sample,
    expression_cells.n_rows,
    cells.dataset as cells_dataset,
    cells.cell as cells_cell,
    cells.cell_type as cells_cell_type,
    cells.sample as cells_sample,
    cells.n_genes_detected
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
            expression_cells.least_cell_type != cells.cell_type
            or expression_cells.greatest_cell_type != cells.cell_type
            or expression_cells.least_sample != cells.sample
            or expression_cells.greatest_sample != cells.sample
        )
    )
