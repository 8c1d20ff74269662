{#- on-run-start: say what to do when the store has never been loaded (or was made by an older loader, without
    the current_loads view), instead of a bare UNKNOWN_DATABASE / UNKNOWN_TABLE from the first staging view. -#}
{% macro require_raw_tables() %}
    {% if execute %}
        {% set raw_tables %}
            select count() from system.tables
            where database = 'raw' and name in ('loads', 'current_loads', 'matrix', 'genes', 'barcodes', 'metadata',
                           'embeddings')
        {% endset %}
        {% if run_query(raw_tables).columns[0].values()[0] < 7 %}
            {{ exceptions.raise_compiler_error(
                "the store at " ~ (target.path or target.host) ~ " has no raw tables yet (or they predate this "
                ~ "version): run the loader first (python -m loader load DIR, or python -m loader list), "
                ~ "then run dbt build"
            ) }}
        {% endif %}
    {% endif %}
{% endmacro %}
