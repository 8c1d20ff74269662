{#- The databases this project owns — every model's schema (`staging`, `intermediate`, `marts`), with
    `sources=true` also its sources' (`raw`) — as SQL string literals for `database in (...)`: the hooks that
    sweep or check "our" tables all ask this one list, so a new schema is covered everywhere at once. -#}
{% macro project_schemas(sources=false) %}
    {% set schemas = [] %}
    {% set nodes = graph.nodes.values() | list + (graph.sources.values() | list if sources else []) %}
    {% for node in nodes if node.resource_type in ('model', 'seed', 'snapshot', 'source') %}
        {% if node.schema not in schemas %}{% do schemas.append(node.schema) %}{% endif %}
    {% endfor %}
    {% set literals = [] %}
    {% for schema in schemas | sort %}{% do literals.append("'" ~ schema ~ "'") %}{% endfor %}
    {{ return(literals | join(', ')) }}
{% endmacro %}
