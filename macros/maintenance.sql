{#- Post-hook: refresh the planner's statistics of {{ this }} when it has none (a table just
    built or rebuilt, which the next models join at once) or when more than `share` of its
    rows changed since they were taken. Analyzing every table after every cycle cost about a
    second per big model (a 30,000-page sample) whatever the cycle's size; between rebuilds
    autovacuum also keeps them fresh. A partitioned table (macros/partitions.sql) is analyzed
    whole after a full build; after an incremental one only its stale partitions are (a whole
    analyze samples every day kept), and the maintenance job analyzes it whole daily. -#}
{% macro analyze_if_stale(share=0.1) -%}
    {%- set relation = this.include(database=False) -%}
    do $analyze$
    declare
        stale regclass;
    begin
        for stale in
            select tables.oid::regclass
            from pg_class as tables
            left join pg_stat_user_tables as stats on tables.oid = stats.relid
            where
                (
                    tables.oid = '{{ relation }}'::regclass
                    and (tables.relkind <> 'p' or {{ 'false' if is_incremental() else 'true' }})
                    or tables.oid in (
                        select parts.inhrelid from pg_inherits as parts
                        where parts.inhparent = '{{ relation }}'::regclass
                    ) and {{ 'true' if is_incremental() else 'false' }}
                )
                and (
                    tables.relkind = 'p'
                    or stats.relid is null
                    or (stats.last_analyze is null and stats.last_autoanalyze is null)
                    or stats.n_mod_since_analyze > {{ share }} * greatest(stats.n_live_tup, 1000)
                )
        loop
            execute format('analyze %s', stale);
        end loop;
    end
    $analyze$
{%- endmacro %}
