{#- In an incremental build, only the datasets whose current load is not the one already built (a table from
    before load_id: all of them); nothing otherwise. -#}
{% macro where_load_not_built() -%}
    {% if is_incremental() and 'load_id' in adapter.get_columns_in_relation(this) | map(attribute='name') -%}
        where load_id not in (
            select built.load_id from {{ this }} as built
            group by built.load_id
        )
    {%- endif %}
{%- endmacro %}
