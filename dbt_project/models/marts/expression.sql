{#- Per-dataset incremental: only datasets whose current load is not the one their partition was built from are
    recomputed, and their partitions replaced whole (insert_overwrite), so answers stay exact. A change to this
    model's or its inputs' logic needs `dbt build --full-refresh`. -#}
{{ config(
    materialized=('distributed_incremental' if on_cluster() else 'incremental'),
    incremental_strategy='insert_overwrite',
    on_schema_change='append_new_columns',
    order_by='(dataset, gene, cell_type, cell)',
    partition_by='dataset',
    post_hook="{{ drop_removed_datasets() }}",
) }}

with

matrix as (

    select * from {{ ref('stg_raw__matrix') }}
    {% if is_incremental() and 'load_id' in adapter.get_columns_in_relation(this) | map(attribute='name') -%}
        -- only datasets whose current load is not the one already built (a table from before load_id: all)
        where load_id not in (
            select built.load_id from {{ this }} as built
            group by built.load_id
        )
    {%- endif %}

),

genes as (

    select * from {{ ref('genes') }}

),

cells as (

    select * from {{ ref('cells') }}

),

datasets as (

    select * from {{ ref('datasets') }}

),

-- Dictionary-sized lookups: each cell with what its values need (annotation, library size, value kind).
cell_lookup as (

    select
        cells.dataset as dataset,
        cells.cell as cell,
        cells.barcode as barcode,
        cells.cell_type as cell_type,
        cells.sample as sample,
        cells.total_counts as total_counts,
        datasets.value_kind = 'counts' as is_counts

    from cells
    inner join datasets
        on cells.dataset = datasets.dataset

),

-- The matrix streams through two hash joins whose right sides are the small gene and cell lookups.
located as (

    select
        matrix.dataset as dataset,
        matrix.load_id as load_id,
        genes.gene as gene,
        matrix.cell_idx as cell,
        cell_lookup.barcode as barcode,
        cell_lookup.cell_type as cell_type,
        cell_lookup.sample as sample,
        matrix.value as value,
        cell_lookup.total_counts as total_counts,
        cell_lookup.is_counts as is_counts

    from matrix
    inner join genes
        on matrix.dataset = genes.dataset
        and matrix.gene_idx = genes.gene_idx
    inner join cell_lookup
        on matrix.dataset = cell_lookup.dataset
        and matrix.cell_idx = cell_lookup.cell

),

final as (

    select
        cast(dataset as LowCardinality(String)) as dataset,
        cast(load_id as LowCardinality(String)) as load_id,
        cast(gene as LowCardinality(String)) as gene,
        cell,
        barcode,
        cell_type,
        sample,
        value,
        -- scanpy normalize_total(target_sum=1e4) + log1p for counts; real values are already normalised.
        if(is_counts, log1p(value / total_counts * 10000), value) as lognorm

    from located

)

select * from final
