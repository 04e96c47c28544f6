{#- Agent time of the aggregates (AGGREGATES.md ag2_i_sess_state, ag2_i_state_rsn): spans cut
    at every 15-minute boundary, at group membership changes, and summed per interval. Each
    macro is one select. -#}

{#- The data horizon the facts use for open spans: the latest event over the agent-activity
    topics (int_agent_state__sessions' "now"), as a scalar subquery. -#}
{% macro ag2_data_horizon() -%}
    ({{ agent_activity_horizon() }})
{%- endmacro %}

{#- The pieces of the spans `span_cte` (key columns `key_columns` passed through, with measure,
    start_ts, end_ts, last_landed_at): every span cut at each 15-minute boundary it crosses, to
    the millisecond (slot_start, ms; starts_here = 1 in the slot where the span starts); on a
    cycle the touched slots only. -#}
{% macro ag2_pieces(span_cte, key_columns) -%}
    select
        slots.slot_start,
        {{ span_cte }}.{{ key_columns | join(', ' ~ span_cte ~ '.') }},
        {{ span_cte }}.measure,
        {{ ms_between(
            'greatest(' ~ span_cte ~ '.start_ts, slots.slot_start)',
            'least(' ~ span_cte ~ ".end_ts, slots.slot_start + interval '15 minutes')"
        ) }} as ms,
        case when {{ ag2_slot(span_cte ~ '.start_ts') }} = slots.slot_start then 1 else 0 end as starts_here,
        {{ span_cte }}.last_landed_at
    from {{ span_cte }}
    cross join lateral generate_series(
        {{ ag2_slot(span_cte ~ '.start_ts') }}, {{ span_cte }}.end_ts, interval '15 minutes'
    ) as slots (slot_start)
    {% if is_incremental() %}
        inner join {{ touched_keys() }} as touched on slots.slot_start = touched.interval_start_ts
    {% endif %}
    where slots.slot_start < {{ span_cte }}.end_ts and {{ span_cte }}.start_ts < {{ span_cte }}.end_ts
{%- endmacro %}

{#- The spans `span_cte` intersected with the group memberships (RESOURCE_GROUP_FACT) of their
    time: a span is cut at membership changes; an agent in two groups counts in both. -#}
{% macro ag2_group_spans(span_cte) -%}
    select
        memberships.group_key,
        {{ span_cte }}.media_type_key,
        {{ span_cte }}.measure,
        greatest({{ span_cte }}.start_ts, memberships.start_ts) as start_ts,
        least({{ span_cte }}.end_ts, coalesce(memberships.end_ts, 'infinity'::timestamptz)) as end_ts,
        greatest({{ span_cte }}.last_landed_at, memberships.last_landed_at) as last_landed_at
    from {{ span_cte }}
    inner join {{ ref('resource_group_fact') }} as memberships
        on
            {{ span_cte }}.resource_key = memberships.resource_key
            and {{ span_cte }}.start_ts < coalesce(memberships.end_ts, 'infinity'::timestamptz)
            and {{ span_cte }}.end_ts > memberships.start_ts
{%- endmacro %}

{#- The ag2_i_sess_state sums of the pieces `pieces_cte` per slot and `grain` (column list). -#}
{% macro ag2_state_sums(pieces_cte, grain) -%}
    select
        pieces.{{ grain | join(', pieces.') }},
        max(pieces.last_landed_at) as last_landed_at,
        {% for column in ['active_time', 'ready_time', 'not_ready_time', 'busy_time', 'wrap_time'] %}
            coalesce(sum(pieces.ms) filter (where pieces.measure = '{{ column }}'), 0) as {{ column }}_ms,
        {% endfor %}
        pieces.slot_start as interval_start_ts
    from {{ pieces_cte }} as pieces
    group by pieces.slot_start, pieces.{{ grain | join(', pieces.') }}
{%- endmacro %}
