{#- The user-data mapping (MEASURES.md "User data"): dbt_project.yml's var `user_data_mapping`
    read, checked and completed in one place; the user-data models (macros/user_data.sql and the
    models) take their columns from here. Its own file: a macro that returns a value is called
    from another file's macros (the linter's templater returns values only across files). -#}

{#- The mapping entries, each a dict with key, column, kind (gen / cust / dim), propagation
    (CALL / PARTY) and max_length, defaults filled in; `kind` filters. A wrong entry stops the
    compile with a message that says what to fix. -#}
{% macro user_data_mapping(kind=none) -%}
    {%- set entries = var('user_data_mapping', []) -%}
    {#- a linter renders var() as a placeholder text: no mapping then -#}
    {%- if entries is string or entries is not iterable -%}{%- set entries = [] -%}{%- endif -%}
    {%- set reserved = ['interaction_resource_id', 'interaction_id', 'media_server_ixn_id',
        'media_server_root_ixn_id', 'start_ts', 'start_date_time_key', 'user_data_cust_dim_1_key',
        'last_landed_at', 'create_audit_key', 'update_audit_key'] -%}
    {%- set seen = [] -%}
    {%- set out = [] -%}
    {%- for entry in entries -%}
        {%- set where = "user_data_mapping entry " ~ loop.index ~ " (" ~ entry ~ ") in dbt_project.yml: " -%}
        {%- if entry is not mapping or not entry.get('key') or not entry.get('column') or not entry.get('kind') -%}
            {{ exceptions.raise_compiler_error(where ~ "give key, column and kind (gen, cust or dim)") }}
        {%- endif -%}
        {%- set kind_of = entry['kind'] | lower -%}
        {%- set propagation = (entry.get('propagation') or 'CALL') | upper -%}
        {%- set column = entry['column'] | lower -%}
        {%- if kind_of not in ('gen', 'cust', 'dim') -%}
            {{ exceptions.raise_compiler_error(where ~ "kind must be gen, cust or dim, not '"
                ~ entry['kind'] ~ "'") }}
        {%- endif -%}
        {%- if propagation not in ('CALL', 'PARTY') -%}
            {{ exceptions.raise_compiler_error(where ~ "propagation must be CALL or PARTY, not '"
                ~ entry['propagation'] ~ "'") }}
        {%- endif -%}
        {%- set sql_name = column.isascii() and column[:1].isalpha() and column.replace('_', 'x').isalnum() -%}
        {%- if not sql_name or column | length > 63 or column in reserved -%}
            {{ exceptions.raise_compiler_error(where ~ "column must be a SQL name (a letter, then letters, digits or _;"
                ~ " at most 63) and not one of " ~ reserved | join(', ')) }}
        {%- endif -%}
        {%- if column in seen -%}
            {{ exceptions.raise_compiler_error(where ~ "column '" ~ column
                ~ "' is mapped twice; give each entry its own column") }}
        {%- endif -%}
        {%- set max_length = entry.get('max_length') or (64 if kind_of == 'dim' else 255) -%}
        {%- if max_length is not number or max_length < 1 -%}
            {{ exceptions.raise_compiler_error(where ~ "max_length must be a positive whole number") }}
        {%- endif -%}
        {%- do seen.append(column) -%}
        {%- if kind is none or kind == kind_of -%}
            {%- do out.append({'key': entry['key'] | string, 'column': column, 'kind': kind_of,
                'propagation': propagation, 'max_length': max_length | int}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}
