{#- The read-only role of the report server (`infomart serve`), created and granted by every
    dbt invocation (on-run-end): it may connect, read the marts, aggregates and report views,
    and nothing else; its sessions are read-only by default too. One role per Info Mart
    database: `<database>_reader`. Default privileges cover the tables and views that later
    builds create (a rebuilt table is a new relation). A database user that may not create
    roles gets a warning, not a failed build: an administrator then creates the role once
    (`infomart roles init` creates it as the reporting role, with the others). What is in place
    already is not done again, so the transform role, which may not alter roles, builds quietly. -#}

{% macro report_reader_role() -%}
    {{ return(target.dbname ~ '_reader') }}
{%- endmacro %}

{% macro grant_report_reader(schemas=['infomart', 'reports']) -%}
    do $reader$
    declare
        reader text := '{{ report_reader_role() }}';
        readable text;
    begin
        begin
            if not exists (select from pg_roles where rolname = reader) then
                execute format('create role %I login nosuperuser nocreatedb nocreaterole noinherit', reader);
            end if;
            if not exists (
                select from pg_db_role_setting as setting join pg_roles as r on r.oid = setting.setrole
                where r.rolname = reader and setting.setdatabase = 0
                    and 'default_transaction_read_only=on' = any(setting.setconfig)
            ) then
                execute format('alter role %I set default_transaction_read_only = on', reader);
            end if;
        exception
            when duplicate_object or unique_violation then null;  -- a concurrent build made it
            when insufficient_privilege then
                raise warning 'cannot create the report reader role %: %', reader, sqlerrm;
                if not exists (select from pg_roles where rolname = reader) then
                    return;
                end if;
        end;
        if not has_database_privilege(reader, current_database(), 'connect') then
            execute format('grant connect on database %I to %I', current_database(), reader);
        end if;
        for readable in
            select nspname from pg_namespace
            where nspname in ({% for schema in schemas %}'{{ schema }}'{{ ', ' if not loop.last }}{% endfor %})
        loop
            execute format('grant usage on schema %I to %I', readable, reader);
            execute format('grant select on all tables in schema %I to %I', readable, reader);
            execute format('alter default privileges in schema %I grant select on tables to %I', readable, reader);
        end loop;
    end
    $reader$
{%- endmacro %}
