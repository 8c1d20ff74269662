-- Every non-zero of the current load reaches marts.expression exactly once: rows per dataset = manifest nnz.
with

datasets as (select * from {{ ref('datasets') }}),

expression_rows as (

    select
        dataset,
        count() as n_rows
    from {{ ref('expression') }}
    group by dataset

)

select
    datasets.dataset,
    datasets.nnz,
    expression_rows.n_rows
from datasets
left join expression_rows on datasets.dataset = expression_rows.dataset
where coalesce(expression_rows.n_rows, 0) != datasets.nnz
