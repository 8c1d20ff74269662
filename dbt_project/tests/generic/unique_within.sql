{#- Within each `group_by` group, `column` (an unsigned integer: a cell) never repeats: the key (group_by…,
    column) is unique. For a big table with few groups (expression: dataset × gene) this is several times cheaper
    than grouping by the full key. The distinct values are counted in a Roaring bitmap per group (`groupBitmap`):
    about 2 bytes a row, where `uniqExact`'s hash sets took 8–16 and passed the build's memory at 1B rows. -#}
{% test unique_within(model, group_by, column) %}

select {{ group_by | join(', ') }}, count() as n_rows, groupBitmap({{ column }}) as n_distinct
from {{ model }}
group by {{ group_by | join(', ') }}
having n_rows != n_distinct

{% endtest %}
