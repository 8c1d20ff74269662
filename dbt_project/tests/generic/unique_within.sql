{#- Within each `group_by` group, `column` never repeats: the key (group_by…, column) is unique. For a big table
    with few groups (expression: dataset × gene) this is several times cheaper than grouping by the full key. -#}
{% test unique_within(model, group_by, column) %}

select {{ group_by | join(', ') }}, count() as n_rows, uniqExact({{ column }}) as n_distinct
from {{ model }}
group by {{ group_by | join(', ') }}
having n_rows != n_distinct

{% endtest %}
