{#- on-run-end: the engine can report a write as done although its files were cut short — chDB 26.9 under a
    file-size limit counts the failed write() calls (system.events WriteBufferFromFileDescriptorWriteFailed),
    raises nothing, and commits the part; counts come from the part's metadata, so every data test passes, and
    only the next start of the engine notices and detaches the part: whole datasets vanish from the marts.
    So after a build, every partition of the raw tables and of this project's tables that changed since the build
    started (background merges included) is read back whole; a file cut short fails the read, and so the build,
    with the engine's CANNOT_READ_ALL_DATA naming the file and the table. (CHECK TABLE would be cheaper, but
    clickhouse-connect runs it as a command whose result dbt cannot see.) `var('written_parts_margin_minutes')`
    widens the window for a server whose clock differs from dbt's. Same SQL on chDB and a server. -#}
{% macro check_written_parts() %}
    {% if execute and flags.WHICH in ('build', 'run') %}
        {% set changed_partitions %}
            select distinct database, table, partition_id
            from system.parts
            where
                active
                and database in ({{ project_schemas(sources=true) }})
                and modification_time >= toDateTime('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}', 'UTC')
                    - interval {{ var('written_parts_margin_minutes', 10) | int }} minute
            order by database, table, partition_id
        {% endset %}
        {#- Only the read matters: a part cut short raises CANNOT_READ_ALL_DATA. (Row counts are no check: loads
            may write, merge or drop these tables while the build runs.) -#}
        {% for row in run_query(changed_partitions).rows %}
            {% set read_back %}
                select count() from `{{ row[0] }}`.`{{ row[1] }}`
                where _partition_id = '{{ row[2] }}' and not ignore(*)
            {% endset %}
            {% do run_query(read_back) %}
        {% endfor %}
    {% endif %}
{% endmacro %}
