-- marts.embeddings holds exactly the current loads' raw.embeddings rows: as many per (dataset, embedding), with
-- the same sums of coordinates (no row lost or doubled by the barcode join).
with

current_loads as (
    select load_id from {{ source('raw', 'current_loads') }}
),

raw_rows as (
    select * from {{ source('raw', 'embeddings') }}
    where load_id in (select current_loads.load_id from current_loads)
),

marts as (
    select
        dataset,
        embedding,
        count() as n,
        sum(x) as sum_x,
        sum(y) as sum_y
    from {{ ref('embeddings') }}
    group by dataset, embedding
),

raw as (
    select
        dataset,
        embedding,
        count() as n,
        sum(x) as sum_x,
        sum(y) as sum_y
    from raw_rows
    group by dataset, embedding
),

compared as (
    select
        raw.dataset,
        raw.embedding,
        coalesce(raw.n, 0) as raw_rows,
        coalesce(marts.n, 0) as mart_rows,
        abs(coalesce(raw.sum_x, 0) - coalesce(marts.sum_x, 0)) as off_x,
        abs(coalesce(raw.sum_y, 0) - coalesce(marts.sum_y, 0)) as off_y,
        greatest(abs(coalesce(raw.sum_x, 0)), abs(coalesce(raw.sum_y, 0)), 1) as tolerance_scale
    from raw
    full outer join marts on raw.dataset = marts.dataset and raw.embedding = marts.embedding
)

select * from compared
where raw_rows != mart_rows or off_x > 1e-9 * tolerance_scale or off_y > 1e-9 * tolerance_scale
