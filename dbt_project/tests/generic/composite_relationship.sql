{#- Every key tuple of the model (e.g. dataset, cell) exists in `to` (a composite foreign key). -#}
{% test composite_relationship(model, to, columns, to_columns=none) %}

{%- set to_columns = to_columns or columns %}
select {{ columns | join(', ') }}
from {{ model }}
where ({{ columns | join(', ') }}) not in (
    select {{ to_columns | join(', ') }} from {{ to }}
)

{% endtest %}
