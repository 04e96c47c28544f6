{#- The columns of each aggregate family (AGGREGATES.md) and the final select of an ag2 row.
    A `_grp` family is its agent family with group_key in place of resource_key. Column lists
    are space-separated names (read them with `.split()`). -#}

{#- The `kind` columns of `family`, space-separated. Kinds: grain; counts; ms (summed
    milliseconds, each kept as `<name>_ms` and rounded once to `<name>`); max_ms (maxima in
    milliseconds, kept the same way); ms_columns and max_ms_columns (the `<name>_ms` columns). -#}
{% macro ag2_family_columns(family, kind) -%}
    {%- set queue_grain = 'resource_key media_type_key interaction_type_key' -%}
    {%- set base = family[:-4] if family.endswith('_grp') else family -%}
    {%- if kind == 'grain' -%}
        {%- set grain = {
            'queue': queue_grain ~ ' service_level_threshold short_abandon_threshold',
            'queue_abn': queue_grain ~ ' time_range_key',
            'queue_acc_agent': queue_grain ~ ' time_range_key',
            'agent': queue_grain,
            'i_sess_state': 'resource_key media_type_key',
            'i_state_rsn': 'resource_key media_type_key resource_state_reason_key',
            'id': 'media_type_key interaction_type_key user_data_cust_dim_1_key',
            'campaign': 'campaign_key',
        }[base] -%}
        {{ grain | replace('resource_key ', 'group_key ', 1) if family.endswith('_grp') else grain }}
    {%- elif kind == 'counts' -%}
        {{ {
            'queue': 'entered accepted accepted_thr abandoned abandoned_short abandoned_invite redirected cleared'
                ~ ' routed_other distributed',
            'queue_abn': 'abandoned',
            'queue_acc_agent': 'accepted',
            'agent': 'offered accepted rejected redirected abandoned_invite initiated hold wrap transfer_init'
                ~ ' xfer_received_accepted conf_received_accepted consult_init consult_offered consult_accepted',
            'i_sess_state': '',
            'i_state_rsn': 'state_reason_count',
            'id': 'entered answered abandoned transferred',
            'campaign': 'attempts answered busy no_answer answering_machine fax sit dropped abandoned connected'
                ~ ' records_completed',
        }[base] }}
    {%- elif kind == 'ms' -%}
        {{ {
            'queue': 'accepted_time abandoned_time engage_time hold_time wrap_time handle_time',
            'queue_abn': '',
            'queue_acc_agent': '',
            'agent': 'invite_time dial_time engage_time hold_time wrap_time handle_time consult_engage_time',
            'i_sess_state': 'active_time ready_time not_ready_time busy_time wrap_time',
            'i_state_rsn': 'state_reason_time',
            'id': 'answer_time handle_time',
            'campaign': 'attempt_time',
        }[base] }}
    {%- elif kind == 'max_ms' -%}
        {{ {'queue': 'accepted_time_max abandoned_time_max', 'id': 'answer_time_max'}.get(base, '') }}
    {%- elif kind in ('ms_columns', 'max_ms_columns') -%}
        {{ ag2_family_columns(family, kind[:-8]).split() | join('_ms ') }}{{ '_ms' if ag2_family_columns(family, kind[:-8]).split() }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown column kind '" ~ kind ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- One column of the final select (reading the relation `summed`): a count as bigint, or a
    millisecond total rounded once to seconds followed by its exact `<name>_ms`. -#}
{% macro ag2_final_column(column, is_ms) -%}
    {%- if is_ms -%}
        {{ ms_to_seconds('summed.' ~ column ~ '_ms') }} as {{ column }}, cast(summed.{{ column }}_ms as bigint) as {{ column }}_ms
    {%- else -%}
        cast(summed.{{ column }} as bigint) as {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- The count, duration and ratio columns of `family`'s final select, each followed by a comma. -#}
{% macro ag2_measure_columns(family) -%}
    {%- set counts = ag2_family_columns(family, 'counts').split() -%}
    {%- set rounded = ag2_family_columns(family, 'ms').split() + ag2_family_columns(family, 'max_ms').split() -%}
    {% for column in counts + rounded %}{{ ag2_final_column(column, column in rounded) }}, {% endfor %}
    {{- ag2_ratio_column(family) }}
{%- endmacro %}

{#- The ratio column of `family` over the row's own exact parts, followed by a comma: service
    level (ag2_queue), occupancy (ag2_i_sess_state); nothing for the other families. -#}
{% macro ag2_ratio_column(family) -%}
    {%- if family == 'queue' -%}
        cast(summed.accepted_thr as double precision)
        / nullif(summed.accepted + summed.abandoned + summed.abandoned_invite - summed.abandoned_short, 0)
        as service_level,
    {%- elif family in ('i_sess_state', 'i_sess_state_grp') -%}
        cast(summed.busy_time_ms + summed.wrap_time_ms as double precision)
        / nullif(summed.busy_time_ms + summed.wrap_time_ms + summed.ready_time_ms, 0)
        as occupancy,
    {%- endif -%}
{%- endmacro %}

{#- The final select of an aggregate row from the relation `summed` (interval_start_ts, the
    grain, the counts, `<ms>_ms`, `<max>_ms`, last_landed_at): counts, rounded seconds beside
    exact milliseconds, the ratio. Rows where every measure is 0 are left out. -#}
{% macro ag2_final_columns(family) -%}
    {%- set nonzero = ag2_family_columns(family, 'counts').split()
        + ag2_family_columns(family, 'ms_columns').split() -%}
    select
        {{ ag2_date_time_key('summed.interval_start_ts') }} as date_time_key,
        summed.interval_start_ts,
        summed.{{ ag2_family_columns(family, 'grain').split() | join(', summed.') }},
        {{ ag2_measure_columns(family) }}
        summed.last_landed_at
    from summed
    where summed.{{ nonzero | join(' <> 0 or summed.') }} <> 0
{%- endmacro %}
