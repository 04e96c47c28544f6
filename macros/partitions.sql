{#- Day partitions of the largest facts (PostgreSQL declarative partitioning), so that the
    maintenance job's retention purge drops whole days instead of deleting rows (DECISIONLOG.md,
    "Partitioned facts"). A model opts in with the config `partition_by='<timestamptz column>'`
    (its START_TS); the partitions are UTC days <table>_pYYYYMMDD plus a DEFAULT partition, made
    by raw.ensure_day_partitions (ingest/sql/raw_schema.sql, shared with the raw event tables)
    for the days the rows being written carry:

    * a full build (create_table_as below) computes the rows once into a temporary table, makes
      the partitioned table and the partitions of their days, then inserts them;
    * an incremental build (the touched_keys strategy, macros/incremental.sql) makes the
      partitions of the new rows' days before it inserts them;
    * the post-hook name_partitions() names the partitions after their table again once dbt's
      full refresh has renamed the rebuilt table into place.

    A unique index of a partitioned table must hold the partition column: the models' row keys
    are (<id>, start_ts); the id alone stays unique by the recipe and by its `unique` test. -#}

{#- dbt-postgres' postgres__create_table_as (dbt-postgres 1.11, whose macros a project cannot
    call by name once it overrides them), with the partitioned branch in front. -#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if partition_by and not temporary -%}
        {{ partitioned_create_table_as(relation, sql, partition_by) }}
    {%- else -%}
        {%- set unlogged = config.get('unlogged', default=false) -%}
        {%- set sql_header = config.get('sql_header', none) -%}
        {{ sql_header if sql_header is not none }}
        create {% if temporary -%} temporary {%- elif unlogged -%} unlogged {%- endif %} table {{ relation }}
        {% set contract_config = config.get('contract') %}
        {% if contract_config.enforced %}
            {{ get_assert_columns_equivalent(sql) }}
        {% endif -%}
        {% if contract_config.enforced and (not temporary) -%}
            {{ get_table_columns_and_constraints() }} ;
            insert into {{ relation }} (
                {{ adapter.dispatch('get_column_names', 'dbt')() }}
            )
            {%- set sql = get_select_subquery(sql) %}
        {% else %}
            as
        {% endif -%}
        (
            {{ sql }}
        );
    {%- endif -%}
{%- endmacro %}

{% macro partitioned_create_table_as(relation, sql, partition_by) -%}
    {%- set rows = 'pg_temp.' ~ adapter.quote(relation.identifier ~ '__rows') -%}
    {%- set contract_config = config.get('contract') -%}
    drop table if exists {{ rows }};
    create temporary table {{ rows }} on commit drop as (
        {{ sql }}
    );
    {%- if contract_config.enforced %}
        {%- set checked = get_assert_columns_equivalent(sql) %}
        {%- set definition = get_table_columns_and_constraints() %}
        {%- set columns = adapter.dispatch('get_column_names', 'dbt')() %}
    {%- else %}
        {%- set checked = '' %}
        {%- set definition = '(like ' ~ rows ~ ')' %}
        {%- set columns = '*' %}
    {%- endif %}
    create table {{ relation }} {{ checked }} {{ definition }}
    partition by range ({{ partition_by }});
    {{ ensure_day_partitions(relation, rows, partition_by) }};
    insert into {{ relation }} {% if columns != '*' %}({{ columns }}){% endif %}
    select {{ columns }} from {{ rows }}
{%- endmacro %}

{#- The day partitions (and the default partition) of `relation` for the rows of `rows`. -#}
{% macro ensure_day_partitions(relation, rows, partition_by) -%}
    select raw.ensure_day_partitions(
        '{{ relation.include(database=False) }}'::regclass,
        min({{ partition_by }}),
        max({{ partition_by }})
    )
    from {{ rows }}
{%- endmacro %}

{#- Post-hook of a partitioned model: after a full refresh the rebuilt table has taken the
    model's name and the old one is <model>__dbt_backup until the commit; their partitions are
    renamed after them, the old table's first. Nothing for a model that is not partitioned. -#}
{% macro name_partitions() -%}
    {%- if config.get('partition_by') -%}
        select raw.name_partitions(to_regclass('{{ this.schema }}.{{ this.identifier }}__dbt_backup'));
        select raw.name_partitions('{{ this.include(database=False) }}'::regclass)
    {%- else -%}
        select 0
    {%- endif -%}
{%- endmacro %}
