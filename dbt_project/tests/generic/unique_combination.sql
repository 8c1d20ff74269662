{#- No two rows share the same values in `columns` (a composite primary key). -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count() as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having n_rows > 1

{% endtest %}
