{#- THE incremental recipe of the project: touched keys -> their rows deleted -> their rows
    inserted. Every incremental model above staging follows it (doc block `incremental_recipe`,
    DECISIONLOG.md):

        {{ config(
            materialized='incremental',
            incremental_strategy='touched_keys',
            unique_key='call_id',
            pre_hook="{{ save_touched_keys(touched_calls_sql()) }}",
        ) }}
        ...
        from {{ ref('int_voice__parties') }}
        {% if is_incremental() %}
            where call_id in (select call_id from {{ touched_keys() }})
        {% endif %}

    1. The pre-hook `save_touched_keys(sql)` runs the model's touched-key query once per cycle
       into a temporary table (columns: the unique_key columns) before the model is built.
       The query names the keys whose rows may change: new rows, and the keys of old rows that
       the cycle may remove or re-key (a provisional row, an interval a late event deletes).
    2. The model recomputes every touched key from all its inputs, reading the touched keys
       with `touched_keys()`. A key may end with no rows at all.
    3. The strategy deletes every row of a touched key (and of any key the new rows carry),
       then inserts the new rows: no placeholder rows, no clean-up hooks.
    On a full build the pre-hook does nothing and the model computes everything.
    A range-shaped touched set (the agent-state window, macros/agent_state.sql) is saved first
    with `save_cycle_table`; the touched keys are then the keys of the old rows it covers. -#}

{#- Name of the cycle's touched-key table of this model (a temporary table of the session). -#}
{% macro touched_keys() -%}
    {{ cycle_table('touched') }}
{%- endmacro %}

{#- Pre-hook: the touched keys of this cycle into `touched_keys()` (nothing on a full build). -#}
{% macro save_touched_keys(touched_sql) -%}
    {{ save_cycle_table('touched', touched_sql) }}
{%- endmacro %}

{#- A temporary table of this model's cycle, `<model>__<suffix>`: the touched keys, or an input
    of the touched-key query that the body reads too (the agent-state recompute window). It is
    dropped at the commit that ends the model's build. -#}
{% macro cycle_table(suffix) -%}
    {{ adapter.quote(this.identifier ~ '__' ~ suffix) }}
{%- endmacro %}

{#- Pre-hook: the rows of `cycle_sql` into `cycle_table(suffix)`, analyzed, so the planner knows
    their number (nothing on a full build). -#}
{% macro save_cycle_table(suffix, cycle_sql) -%}
    {{ return(adapter.dispatch('save_cycle_table', 'infomart')(suffix, cycle_sql)) }}
{%- endmacro %}

{% macro postgres__save_cycle_table(suffix, cycle_sql) -%}
    {% if is_incremental() %}
        drop table if exists {{ cycle_table(suffix) }};
        create temporary table {{ cycle_table(suffix) }} on commit drop as {{ cycle_sql }};
        analyze {{ cycle_table(suffix) }}
    {% endif %}
{%- endmacro %}

{#- The strategy `touched_keys` (dbt calls get_incremental_<strategy>_sql). -#}
{% macro get_incremental_touched_keys_sql(arg_dict) -%}
    {{ return(adapter.dispatch('touched_keys_delete_insert', 'infomart')(arg_dict)) }}
{%- endmacro %}

{% macro postgres__touched_keys_delete_insert(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] if arg_dict['unique_key'] is not string else [arg_dict['unique_key']] -%}
    {%- set key_list = keys | join(', ') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set names = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- if 'update_audit_key' in names %}
        {{ keep_audit_keys(target, source, names) }};
    {%- endif %}
    delete from {{ target }}
    where ({{ key_list }}) in (
        select {{ key_list }} from {{ touched_keys() }}
        union
        select {{ key_list }} from {{ source }}
    );
    {% if config.get('partition_by') %}
    {{ ensure_day_partitions(target, source, config.get('partition_by')) }};
    {% endif %}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{#- The audit key of this build: the transform's CTL_AUDIT_LOG row (pipeline/control.py), set
    as the session setting infomart.audit_key for dbt's connections (PGOPTIONS); 0 when dbt runs
    without the pipeline. -#}
{% macro current_audit_key() -%}
    coalesce(nullif(current_setting('infomart.audit_key', true), ''), '0')::bigint
{%- endmacro %}

{#- The audit key of the last successful build of this model (ctl.ctl_model_build, made by the
    on-run-start hook, macros/control.sql, and written by the transform after each build); 0 when
    dbt runs on its own, so that only the landing marks count. -#}
{% macro last_built_audit_key() -%}
    (
        select coalesce(max(builds.audit_key), 0) from {{ model_builds_relation() }} as builds
        where builds.model_name = '{{ this.identifier }}'
    )
{%- endmacro %}

{#- The audit columns of a fact (CREATE_AUDIT_KEY, UPDATE_AUDIT_KEY): the model selects both as
    this build's key; keep_audit_keys then gives back the old keys of rows that existed. -#}
{% macro audit_key_columns() -%}
    {{ current_audit_key() }} as create_audit_key,
    {{ current_audit_key() }} as update_audit_key
{%- endmacro %}

{#- Step 3a of the recipe for a model with audit columns: a new row keeps the CREATE_AUDIT_KEY of
    the old row with the same row key (the model's first unique index), and its UPDATE_AUDIT_KEY
    too when no other column changed (landing bookkeeping, *_landed_at, aside), so that a
    recomputed but unchanged row is not exported again. -#}
{% macro keep_audit_keys(target, source, names) -%}
    {%- set row_key = (config.get('indexes') | selectattr('unique') | first)['columns']
        | reject('equalto', config.get('partition_by')) | list -%}
    {%- set same_row = [] -%}
    {%- for column in row_key -%}
        {%- do same_row.append('old_rows.' ~ column ~ ' = new_rows.' ~ column) -%}
    {%- endfor -%}
    {%- set compared = [] -%}
    {%- for name in names if name not in ('create_audit_key', 'update_audit_key') and not name.endswith('landed_at') -%}
        {%- do compared.append(adapter.quote(name)) -%}
    {%- endfor -%}
    update {{ source }} as new_rows
    set
        create_audit_key = old_rows.create_audit_key,
        update_audit_key = case
            when
                (new_rows.{{ compared | join(', new_rows.') }})
                is not distinct from (old_rows.{{ compared | join(', old_rows.') }})
                then old_rows.update_audit_key
            else new_rows.update_audit_key
        end
    from {{ target }} as old_rows
    where {{ same_row | join(' and ') }}
{%- endmacro %}

{% macro default__touched_keys_delete_insert(arg_dict) -%}
    {{ exceptions.raise_compiler_error(
        "the touched_keys strategy has no implementation for adapter '" ~ adapter.type()
        ~ "': add one in macros/incremental.sql (Spark: merge, or insert overwrite by key)"
    ) }}
{%- endmacro %}

{% macro default__save_cycle_table(suffix, cycle_sql) -%}
    {{ exceptions.raise_compiler_error(
        "save_cycle_table has no implementation for adapter '" ~ adapter.type() ~ "': add one in macros/incremental.sql"
    ) }}
{%- endmacro %}

{#- The replace_all strategy of the dimension tables rebuilt whole (resource_, group_): every row
    deleted and the new rows inserted in one transaction, so the relation (and every view that
    reads it) stays; see DECISIONLOG.md, "Dimension tables are replaced in place". -#}
{% macro get_incremental_replace_all_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
