{#- on-run-start: say what to do when the store has never been loaded, instead of a bare UNKNOWN_DATABASE from the
    first staging view. -#}
{% macro require_raw_tables() %}
    {% if execute %}
        {% set found = run_query(
            "select count() from system.tables where database = 'raw'"
            ~ " and name in ('loads', 'matrix', 'genes', 'barcodes', 'metadata')"
        ).columns[0].values()[0] %}
        {% if found < 5 %}
            {{ exceptions.raise_compiler_error(
                "the store at " ~ (target.path or target.host) ~ " has no raw tables yet: load a study first "
                ~ "(python -m loader load DIR), then run dbt build"
            ) }}
        {% endif %}
    {% endif %}
{% endmacro %}
