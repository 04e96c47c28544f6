{#- Post-hook: refresh the planner's statistics of {{ this }} when it has none (a table just
    built or rebuilt, which the next models join at once) or when more than `share` of its
    rows changed since they were taken. Analyzing every table after every cycle cost about a
    second per big model (a 30,000-page sample) whatever the cycle's size; between rebuilds
    autovacuum also keeps them fresh. -#}
{% macro analyze_if_stale(share=0.1) -%}
    do $analyze$
    begin
        if coalesce((
            select
                (stats.last_analyze is null and stats.last_autoanalyze is null)
                or stats.n_mod_since_analyze > {{ share }} * greatest(stats.n_live_tup, 1000)
            from pg_stat_user_tables as stats
            where stats.relid = '{{ this.include(database=False) }}'::regclass
        ), true) then
            execute 'analyze {{ this.include(database=False) }}';
        end if;
    end
    $analyze$
{%- endmacro %}
