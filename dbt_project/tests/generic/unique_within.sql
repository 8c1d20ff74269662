{#- Within each `group_by` group, `column` (an unsigned integer: a cell) never repeats: the key (group_by…,
    column) is unique. For a big table with few groups (expression: dataset × gene) this is several times cheaper
    than grouping by the full key. The distinct values are counted in a Roaring bitmap per group (`groupBitmap`),
    which stays near a byte per row where `uniqExact`'s hash sets hold 8–16 bytes, so the test's memory stays
    within the build's at a billion rows. -#}
{% test unique_within(model, group_by, column) %}

select {{ group_by | join(', ') }}, count() as n_rows, groupBitmap({{ column }}) as n_distinct
from {{ model }}
group by {{ group_by | join(', ') }}
having n_rows != n_distinct

{% endtest %}
