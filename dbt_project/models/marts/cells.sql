{{ config(order_by='(dataset, cell)') }}

with

barcodes as (

    select * from {{ ref('stg_raw__barcodes') }}

),

metadata as (

    select * from {{ ref('stg_raw__metadata') }}

),

matrix as (

    select * from {{ ref('stg_raw__matrix') }}

),

cell_totals as (

    select
        dataset,
        cell_idx,
        toUInt32(count()) as n_genes_detected,
        sum(value) as total_counts

    from matrix
    group by dataset, cell_idx

),

annotations as (

    -- `is_annotated` tells a matched row from a LEFT JOIN's fill-in, whatever join_use_nulls says.
    select
        dataset,
        barcode,
        cell_type,
        sample,
        group_attributes,
        numeric_attributes,
        true as is_annotated

    from metadata

),

annotated_cells as (

    select
        barcodes.dataset as dataset,
        barcodes.cell_idx as cell_idx,
        barcodes.barcode as barcode,
        coalesce(annotations.is_annotated, false) as is_annotated,
        annotations.cell_type as annotated_cell_type,
        annotations.sample as annotated_sample,
        annotations.group_attributes as annotated_group_attributes,
        annotations.numeric_attributes as annotated_numeric_attributes,
        coalesce(cell_totals.n_genes_detected, 0) as detected,
        coalesce(cell_totals.total_counts, 0) as library_size

    from barcodes
    left join annotations
        on barcodes.dataset = annotations.dataset
        and barcodes.barcode = annotations.barcode
    left join cell_totals
        on barcodes.dataset = cell_totals.dataset
        and barcodes.cell_idx = cell_totals.cell_idx

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cell_idx as cell,
        barcode,
        cast(
            if(is_annotated and annotated_cell_type != '', annotated_cell_type, 'unannotated')
            as LowCardinality(String)
        ) as cell_type,
        cast(if(is_annotated, annotated_sample, '') as LowCardinality(String)) as sample,
        cast(
            if(is_annotated, annotated_group_attributes, map()) as Map(String, String)
        ) as group_attributes,
        cast(
            if(is_annotated, annotated_numeric_attributes, map()) as Map(String, Float64)
        ) as numeric_attributes,
        toUInt32(detected) as n_genes_detected,
        toFloat64(library_size) as total_counts

    from annotated_cells

)

select * from final
