{#- The aggregates (AGGREGATES.md, our RAA): interval arithmetic in the reporting time zone,
    the column lists of every family, the roll-up of one level into the next, and the touched
    intervals of an incremental cycle. Every ag2 table follows the project's one incremental
    recipe (macros/incremental.sql): unique_key date_time_key (the interval), the touched
    intervals saved by the pre-hook, the body recomputes them from all of its inputs. -#}

{#- The reporting time zone as a SQL literal. -#}
{% macro ag2_zone() -%}
    '{{ var("reporting_time_zone") }}'
{%- endmacro %}

{#- Start (timestamptz) of the 15-minute interval holding `ts`. Local quarter hours are UTC
    quarter hours in every zone whose offset is a whole number of quarter hours. -#}
{% macro ag2_slot(ts) -%}
    to_timestamp(floor(extract(epoch from {{ ts }}) / 900) * 900)
{%- endmacro %}

{#- Start (timestamptz) of the interval of `level` holding the instant `ts`, in the reporting
    zone. An hour starts at the local hh:00 (a repeated hour in autumn gives two hours); a day at
    the local midnight; a week on Sunday or, with var week_start 'iso', on Monday. -#}
{% macro ag2_interval_start(level, ts) -%}
    {%- set zone = ag2_zone() -%}
    {%- if level == 'subhr' -%}
        {{ ag2_slot(ts) }}
    {%- elif level == 'hour' -%}
        ({{ ag2_slot(ts) }} - make_interval(mins => cast(extract(minute from {{ ag2_slot(ts) }} at time zone {{ zone }}) as integer)))
    {%- elif level == 'week' and var('week_start', 'sunday') == 'sunday' -%}
        ((date_trunc('week', ({{ ts }} at time zone {{ zone }}) + interval '1 day') - interval '1 day') at time zone {{ zone }})
    {%- elif level in ('day', 'week', 'month', 'quarter', 'year') -%}
        (date_trunc('{{ level }}', {{ ts }} at time zone {{ zone }}) at time zone {{ zone }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown aggregate level '" ~ level ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- End (exclusive) of the interval of `level` that starts at `start_ts`. -#}
{% macro ag2_interval_end(level, start_ts) -%}
    {%- set zone = ag2_zone() -%}
    {%- set steps = {'subhr': '15 minutes', 'hour': '1 hour', 'day': '1 day', 'week': '7 days',
        'month': '1 month', 'quarter': '3 months', 'year': '1 year'} -%}
    {%- if level in ('subhr', 'hour') -%}
        ({{ start_ts }} + interval '{{ steps[level] }}')
    {%- else -%}
        ((({{ start_ts }}) at time zone {{ zone }} + interval '{{ steps[level] }}') at time zone {{ zone }})
    {%- endif -%}
{%- endmacro %}

{#- DATE_TIME_KEY of an interval start: the DATE_TIME row at that instant. -#}
{% macro ag2_date_time_key(start_ts) -%}
    cast(floor(extract(epoch from {{ start_ts }}) / 900) * 900 as integer)
{%- endmacro %}

{#- The columns of a family: grain, counts, summed milliseconds (each kept as `<name>_ms` and
    rounded once to `<name>`), maxima in milliseconds, and ratios (numerator, denominator) over
    the row's own exact parts. -#}
{% macro ag2_family(family) -%}
    {%- set queue_grain = ['resource_key', 'media_type_key', 'interaction_type_key'] -%}
    {%- set families = {
        'queue': {
            'grain': queue_grain + ['service_level_threshold', 'short_abandon_threshold'],
            'counts': ['entered', 'accepted', 'accepted_thr', 'abandoned', 'abandoned_short', 'abandoned_invite',
                'redirected', 'cleared', 'routed_other', 'distributed'],
            'ms': ['accepted_time', 'abandoned_time', 'engage_time', 'hold_time', 'wrap_time', 'handle_time'],
            'max_ms': ['accepted_time_max', 'abandoned_time_max'],
            'ratios': {'service_level': ['accepted_thr', 'accepted + abandoned + abandoned_invite - abandoned_short']},
        },
        'queue_abn': {
            'grain': queue_grain + ['time_range_key'], 'counts': ['abandoned'], 'ms': [], 'max_ms': [], 'ratios': {},
        },
        'queue_acc_agent': {
            'grain': queue_grain + ['time_range_key'], 'counts': ['accepted'], 'ms': [], 'max_ms': [], 'ratios': {},
        },
        'agent': {
            'grain': queue_grain,
            'counts': ['offered', 'accepted', 'rejected', 'redirected', 'abandoned_invite', 'initiated', 'hold',
                'wrap', 'transfer_init', 'xfer_received_accepted', 'conf_received_accepted', 'consult_init',
                'consult_offered', 'consult_accepted'],
            'ms': ['invite_time', 'dial_time', 'engage_time', 'hold_time', 'wrap_time', 'handle_time',
                'consult_engage_time'],
            'max_ms': [], 'ratios': {},
        },
        'i_sess_state': {
            'grain': ['resource_key', 'media_type_key'], 'counts': [],
            'ms': ['active_time', 'ready_time', 'not_ready_time', 'busy_time', 'wrap_time'], 'max_ms': [],
            'ratios': {'occupancy': ['busy_time_ms + wrap_time_ms', 'busy_time_ms + wrap_time_ms + ready_time_ms']},
        },
        'i_state_rsn': {
            'grain': ['resource_key', 'media_type_key', 'resource_state_reason_key'],
            'counts': ['state_reason_count'], 'ms': ['state_reason_time'], 'max_ms': [], 'ratios': {},
        },
        'id': {
            'grain': ['media_type_key', 'interaction_type_key'],
            'counts': ['entered', 'answered', 'abandoned', 'transferred'], 'ms': ['answer_time', 'handle_time'],
            'max_ms': ['answer_time_max'], 'ratios': {},
        },
    } -%}
    {%- set base = family[:-4] if family.endswith('_grp') else family -%}
    {%- set spec = families[base] -%}
    {%- if family.endswith('_grp') -%}
        {%- set spec = {'grain': ['group_key'] + spec['grain'][1:], 'counts': spec['counts'], 'ms': spec['ms'],
            'max_ms': spec['max_ms'], 'ratios': spec['ratios']} -%}
    {%- endif -%}
    {{ return(spec) }}
{%- endmacro %}

{#- The final columns of an aggregate row from a relation `summed` with interval_start_ts, the
    grain, the counts, `<ms>_ms`, `<max>_ms` and last_landed_at. Rows where every measure is 0
    are left out. -#}
{% macro ag2_final_columns(family, summed='summed') -%}
    {%- set spec = ag2_family(family) -%}
    select
        {{ ag2_date_time_key(summed ~ '.interval_start_ts') }} as date_time_key,
        {{ summed }}.interval_start_ts,
        {%- for column in spec['grain'] %}
            {{ summed }}.{{ column }},
        {%- endfor %}
        {%- for column in spec['counts'] %}
            cast({{ summed }}.{{ column }} as bigint) as {{ column }},
        {%- endfor %}
        {%- for column in spec['ms'] + spec['max_ms'] %}
            {{ ms_to_seconds(summed ~ '.' ~ column ~ '_ms') }} as {{ column }},
            cast({{ summed }}.{{ column }}_ms as bigint) as {{ column }}_ms,
        {%- endfor %}
        {%- for ratio, parts in spec['ratios'].items() %}
            cast({{ parts[0] }} as double precision) / nullif({{ parts[1] }}, 0) as {{ ratio }},
        {%- endfor %}
        {{ summed }}.last_landed_at
    from {{ summed }}
    where
        {%- for column in spec['counts'] + spec['ms'] %}
            {% if not loop.first %}or {% endif %}{{ summed }}.{{ column }}{{ '_ms' if column in spec['ms'] else '' }} <> 0
        {%- endfor %}
{%- endmacro %}

{#- Body of a roll-up level: the rows of `lower` (a finer level of the same family) summed into
    the intervals of `level`; on an incremental cycle only the touched intervals. Milliseconds are
    summed, never rounded seconds; maxima are maxima; ratios are recomputed from the sums. -#}
{% macro ag2_rollup(family, lower, level, incremental=true) -%}
    {%- set spec = ag2_family(family) -%}
    with

    lower_rows as (
        select lower_rows.*
        from {{ lower }} as lower_rows
        {% if incremental and is_incremental() %}
            inner join {{ touched_keys() }} as touched
                on
                    lower_rows.interval_start_ts >= touched.interval_start_ts
                    and lower_rows.interval_start_ts < touched.interval_end_ts
        {% endif %}
    ),

    summed as (
        select
            {{ ag2_interval_start(level, 'lower_rows.interval_start_ts') }} as interval_start_ts,
            {%- for column in spec['grain'] %}
                lower_rows.{{ column }},
            {%- endfor %}
            {%- for column in spec['counts'] %}
                sum(lower_rows.{{ column }}) as {{ column }},
            {%- endfor %}
            {%- for column in spec['ms'] %}
                sum(lower_rows.{{ column }}_ms) as {{ column }}_ms,
            {%- endfor %}
            {%- for column in spec['max_ms'] %}
                max(lower_rows.{{ column }}_ms) as {{ column }}_ms,
            {%- endfor %}
            max(lower_rows.last_landed_at) as last_landed_at
        from lower_rows
        group by
            {{ ag2_interval_start(level, 'lower_rows.interval_start_ts') }}
            {%- for column in spec['grain'] %}, lower_rows.{{ column }}{% endfor %}
    )

    {{ ag2_final_columns(family) }}
{%- endmacro %}

{#- The touched intervals of `level` from a query of touched slot starts (`slot_start`). -#}
{% macro ag2_touched_intervals(level, slots_sql) -%}
    select distinct
        {{ ag2_date_time_key(ag2_interval_start(level, 'touched_slots.slot_start')) }} as date_time_key,
        {{ ag2_interval_start(level, 'touched_slots.slot_start') }} as interval_start_ts,
        {{ ag2_interval_end(level, ag2_interval_start(level, 'touched_slots.slot_start')) }} as interval_end_ts
    from ({{ slots_sql }}) as touched_slots
{%- endmacro %}

{#- Touched slots of the queue families: the entry slots of the segments of calls whose MSF or
    IRF rows landed since this model's high-water mark (a target's late result changes its
    segment's outcome), and of the segments of a queue from the instant its thresholds changed
    in configuration landed since then. Entries never move (START_TS is the Queued event). -#}
{% macro ag2_touched_queue_slots() -%}
    select {{ ag2_slot('segments.start_ts') }} as slot_start
    from {{ ref('mediation_segment_fact') }} as segments
    where segments.media_server_ixn_id in (
        select landed.media_server_ixn_id from {{ ref('mediation_segment_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
        union
        select landed.media_server_ixn_id from {{ ref('interaction_resource_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    )
    union
    select {{ ag2_slot('segments.start_ts') }} as slot_start
    from {{ ref('mediation_segment_fact') }} as segments
    inner join (
        select
            thresholds.resource_key,
            min(thresholds.valid_from) as changed_from
        from {{ ref('ag2_queue_threshold') }} as thresholds
        where {{ ag2_since('thresholds.landed_at') }}
        group by thresholds.resource_key
    ) as changed
        on segments.resource_key = changed.resource_key and segments.start_ts >= changed.changed_from
{%- endmacro %}

{#- Touched slots of the agent families: the offer slots of the IRF rows of calls whose IRF
    rows landed since this model's high-water mark; with `by_group`, also every offer of an
    agent whose group membership landed since then. -#}
{% macro ag2_touched_agent_slots(by_group=false) -%}
    select {{ ag2_slot('handled.start_ts') }} as slot_start
    from {{ ref('interaction_resource_fact') }} as handled
    where handled.media_server_ixn_id in (
        select landed.media_server_ixn_id from {{ ref('interaction_resource_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    )
    {% if by_group %}
        union
        select {{ ag2_slot('handled.start_ts') }} as slot_start
        from {{ ref('interaction_resource_fact') }} as handled
        where handled.resource_key in (
            select memberships.resource_key from {{ ref('resource_group_fact') }} as memberships
            where {{ ag2_since('memberships.last_landed_at') }}
        )
    {% endif %}
{%- endmacro %}

{#- The relation of ag2_credited_sessions (what each session contributed at the last build),
    read without ref: it is built after the aggregates that read its previous state. -#}
{% macro ag2_credited_sessions_relation() -%}
    {%- set relation = adapter.get_relation(database=this.database, schema=this.schema, identifier='ag2_credited_sessions') -%}
    {{ return(relation) }}
{%- endmacro %}

{#- The data horizon the facts use for open spans: the latest event over the agent-activity
    topics (int_agent_state__sessions' "now"). -#}
{% macro ag2_data_horizon() -%}
    (
        select max(latest.event_ts)
        from (
            select max(event_ts) as event_ts from {{ ref('stg_events__voice_agentstate') }}
            union all
            select max(event_ts) as event_ts from {{ ref('stg_events__digital_agentstate') }}
            union all
            select max(event_ts) as event_ts from {{ ref('stg_events__voice_callthread') }}
            union all
            select max(event_ts) as event_ts from {{ ref('stg_events__digital_itx') }}
        ) as latest
    )
{%- endmacro %}

{#- Touched slots of the agent-time families: every slot of a changed session, from its login
    to the later of its end now (open: the data horizon) and its end at the last build
    (ag2_credited_sessions), so time a late event removes is removed too. A session changed when
    its session, state or reason rows landed since this model's high-water mark, when it is open
    (the horizon moves), or, with `by_group`, when its agent's group membership landed. -#}
{% macro ag2_touched_state_slots(by_group=false) -%}
    {%- set credited = ag2_credited_sessions_relation() -%}
    select
        generate_series(
            {{ ag2_slot('changed.start_ts') }},
            greatest(changed.end_ts, coalesce(changed.credited_end_ts, changed.end_ts)),
            interval '15 minutes'
        ) as slot_start
    from (
        select
            sessions.start_ts,
            coalesce(sessions.end_ts, {{ ag2_data_horizon() }}) as end_ts,
            {% if credited is not none %}credited.credited_end_ts{% else %}cast(null as timestamptz){% endif %}
                as credited_end_ts
        from {{ ref('sm_res_session_fact') }} as sessions
        {% if credited is not none %}
            left join {{ credited }} as credited
                on sessions.sm_res_session_fact_key = credited.sm_res_session_fact_key
        {% endif %}
        where
            sessions.active_flag = 1
            or sessions.sm_res_session_fact_key in (
                select landed.sm_res_session_fact_key from {{ ref('sm_res_session_fact') }} as landed
                where {{ ag2_since('landed.last_landed_at') }}
                union
                select landed.sm_res_session_fact_key from {{ ref('sm_res_state_fact') }} as landed
                where {{ ag2_since('landed.last_landed_at') }}
                union
                select landed.sm_res_session_fact_key from {{ ref('sm_res_state_reason_fact') }} as landed
                where {{ ag2_since('landed.last_landed_at') }}
            )
            {% if credited is not none %}
                or credited.credited_open = 1
            {% endif %}
            {% if by_group %}
                or sessions.resource_key in (
                    select memberships.resource_key from {{ ref('resource_group_fact') }} as memberships
                    where {{ ag2_since('memberships.last_landed_at') }}
                )
            {% endif %}
    ) as changed
{%- endmacro %}

{#- Pre-hook SQL of an ag2 table of `level`: its touched intervals from a touched-slot query. -#}
{% macro ag2_touched_sql(level, kind, by_group=false) -%}
    {%- if kind == 'queue' -%}
        {%- set slots = ag2_touched_queue_slots() -%}
    {%- elif kind == 'agent' -%}
        {%- set slots = ag2_touched_agent_slots(by_group) -%}
    {%- elif kind == 'state' -%}
        {%- set slots = ag2_touched_state_slots(by_group) -%}
    {%- elif kind == 'interaction' -%}
        {%- set slots = ag2_touched_interaction_slots() -%}
    {%- endif -%}
    {{ ag2_touched_intervals(level, slots) }}
{%- endmacro %}

{#- Touched slots of ag2_id: the start slots of the interactions whose row or IRF rows landed
    since this model's high-water mark. -#}
{% macro ag2_touched_interaction_slots() -%}
    select {{ ag2_slot('interactions.start_ts') }} as slot_start
    from {{ ref('interaction_fact') }} as interactions
    where interactions.media_server_root_ixn_id in (
        select landed.media_server_root_ixn_id from {{ ref('interaction_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
        union
        select landed.media_server_root_ixn_id from {{ ref('interaction_resource_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    )
{%- endmacro %}

{#- Config of an ag2 table: incremental by interval with the touched-keys recipe. -#}
{% macro ag2_table_config(level, kind, by_group=false, extra_indexes=[]) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='touched_keys',
        unique_key='date_time_key',
        pre_hook="{{ save_touched_keys(ag2_touched_sql('" ~ level ~ "', '" ~ kind ~ "', " ~ by_group ~ ")) }}",
        indexes=[
            {'columns': ['date_time_key']},
            {'columns': ['interval_start_ts']},
            {'columns': ['last_landed_at']},
        ] + extra_indexes,
    ) }}
{%- endmacro %}

{#- The ended queue segments of the touched intervals (all on a full build) with their one
    outcome (AGGREGATES.md), accepted time and the thresholds in force at START_TS. A Diverted
    segment counts once its target's IRF row has ended (its outcome is final then); a target
    without an IRF row (not an agent, IVR or extension party) is routed_other. -#}
{% macro ag2_queue_segments() -%}
    segments as (
        select segments.*
        from {{ ref('mediation_segment_fact') }} as segments
        {% if is_incremental() %}
            inner join {{ touched_keys() }} as touched
                on
                    segments.start_ts >= touched.interval_start_ts
                    and segments.start_ts < touched.interval_end_ts
        {% endif %}
        where segments.end_ts is not null
    ),

    thresholds as (
        select
            resource_key,
            valid_from,
            valid_to,
            service_level_threshold,
            short_abandon_threshold
        from {{ ref('ag2_queue_threshold') }}
    ),

    interactions as (
        select
            interaction_id,
            interaction_type_key
        from {{ ref('interaction_fact') }}
    ),

    targets as (
        select
            interaction_resource_id,
            agent_id,
            end_ts,
            talk_count,
            ring_ms,
            talk_ms,
            hold_ms,
            after_call_work_ms,
            technical_result,
            result_reason,
            last_landed_at
        from {{ ref('interaction_resource_fact') }}
    ),

    measured_segments as (
        select
            segments.start_ts,
            segments.resource_key,
            segments.media_type_key,
            coalesce(interactions.interaction_type_key, {{ unknown_key() }}) as interaction_type_key,
            coalesce(thresholds.service_level_threshold, {{ var('service_level_seconds') }})
                as service_level_threshold,
            coalesce(thresholds.short_abandon_threshold, {{ var('short_abandon_seconds') }})
                as short_abandon_threshold,
            segments.mediation_duration_ms,
            case
                when segments.technical_result = 'Abandoned' then 'abandoned'
                when segments.technical_result = 'Cleared' then 'cleared'
                when targets.interaction_resource_id is null then 'routed_other'
                when targets.agent_id is not null and targets.talk_count = 1 then 'accepted'
                when targets.technical_result = 'Abandoned' and targets.result_reason = 'AbandonedWhileRinging'
                    then 'abandoned_invite'
                when targets.technical_result in ('Redirected', 'Rejected') and targets.talk_count = 0
                    then 'redirected'
                else 'routed_other'
            end as outcome,
            segments.mediation_duration_ms
            + case when segments.media_type_key = 1 then coalesce(targets.ring_ms, 0) else 0 end as accepted_ms,
            coalesce(targets.talk_ms, 0) as engage_ms,
            coalesce(targets.hold_ms, 0) as hold_ms,
            coalesce(targets.after_call_work_ms, 0) as wrap_ms,
            greatest(segments.last_landed_at, targets.last_landed_at) as last_landed_at
        from segments
        left join targets on segments.target_ixn_resource_id = targets.interaction_resource_id
        left join interactions on segments.interaction_id = interactions.interaction_id
        left join thresholds
            on
                segments.resource_key = thresholds.resource_key
                and segments.start_ts >= thresholds.valid_from
                and (segments.start_ts < thresholds.valid_to or thresholds.valid_to is null)
        where not (
            segments.technical_result = 'Diverted'
            and targets.interaction_resource_id is not null
            and targets.end_ts is null
        )
    ),
{%- endmacro %}

{#- The ended agent IRF rows of the touched intervals (all on a full build) with what each adds
    to ag2_agent (AGGREGATES.md; the ledger's agent_measures): a consultation call's rows feed
    only consult_*; offered = roles Received, ReceivedTransfer, ReceivedConference. -#}
{% macro ag2_agent_handlings() -%}
    handled as (
        select handled.*
        from {{ ref('interaction_resource_fact') }} as handled
        {% if is_incremental() %}
            inner join {{ touched_keys() }} as touched
                on
                    handled.start_ts >= touched.interval_start_ts
                    and handled.start_ts < touched.interval_end_ts
        {% endif %}
        where handled.agent_id is not null and handled.end_ts is not null
    ),

    calls as (
        select
            call_id,
            call_type
        from {{ ref('int_voice__calls') }}
    ),

    interactions as (
        select
            interaction_id,
            interaction_type_key
        from {{ ref('interaction_fact') }}
    ),

    handlings as (
        select
            handled.start_ts,
            handled.resource_key,
            handled.media_type_key,
            coalesce(interactions.interaction_type_key, {{ unknown_key() }}) as interaction_type_key,
            coalesce(calls.call_type = 'Consult', false) as is_consult,
            handled.resource_role in ('Received', 'ReceivedTransfer', 'ReceivedConference') as is_offered,
            handled.resource_role,
            handled.technical_result,
            handled.result_reason,
            handled.talk_count,
            handled.ring_ms,
            handled.dial_ms,
            handled.talk_ms,
            handled.hold_count,
            handled.hold_ms,
            handled.after_call_work_count,
            handled.after_call_work_ms,
            handled.cons_init_count,
            handled.last_landed_at
        from handled
        left join calls on handled.media_server_ixn_id = calls.call_id
        left join interactions on handled.interaction_id = interactions.interaction_id
    ),
{%- endmacro %}

{#- The sums of ag2_agent over `handlings`, grouped by the slot and `grain` (column list). -#}
{% macro ag2_agent_sums(grain, source_cte='handlings') -%}
    select
        {{ ag2_slot('start_ts') }} as interval_start_ts,
        {%- for column in grain %}
            {{ column }},
        {%- endfor %}
        count(*) filter (where not is_consult and is_offered) as offered,
        coalesce(sum(talk_count) filter (where not is_consult and is_offered), 0) as accepted,
        count(*) filter (where not is_consult and is_offered and technical_result = 'Rejected') as rejected,
        count(*) filter (where not is_consult and is_offered and technical_result = 'Redirected') as redirected,
        count(*) filter (
            where
                not is_consult and is_offered
                and technical_result = 'Abandoned' and result_reason = 'AbandonedWhileRinging'
        ) as abandoned_invite,
        count(*) filter (where not is_consult and resource_role = 'Initiated') as initiated,
        coalesce(sum(hold_count) filter (where not is_consult), 0) as hold,
        coalesce(sum(after_call_work_count) filter (where not is_consult), 0) as wrap,
        count(*) filter (where not is_consult and technical_result = 'Transferred') as transfer_init,
        coalesce(sum(talk_count) filter (where not is_consult and resource_role = 'ReceivedTransfer'), 0)
            as xfer_received_accepted,
        coalesce(sum(talk_count) filter (where not is_consult and resource_role = 'ReceivedConference'), 0)
            as conf_received_accepted,
        coalesce(sum(cons_init_count) filter (where not is_consult), 0) as consult_init,
        count(*) filter (where is_consult and resource_role = 'ReceivedConsult') as consult_offered,
        coalesce(sum(talk_count) filter (where is_consult and resource_role = 'ReceivedConsult'), 0)
            as consult_accepted,
        coalesce(sum(ring_ms) filter (where not is_consult and is_offered), 0) as invite_time_ms,
        coalesce(sum(dial_ms) filter (where not is_consult and resource_role = 'Initiated'), 0) as dial_time_ms,
        coalesce(sum(talk_ms) filter (where not is_consult), 0) as engage_time_ms,
        coalesce(sum(hold_ms) filter (where not is_consult), 0) as hold_time_ms,
        coalesce(sum(after_call_work_ms) filter (where not is_consult), 0) as wrap_time_ms,
        coalesce(sum(talk_ms + hold_ms + after_call_work_ms) filter (where not is_consult), 0) as handle_time_ms,
        coalesce(sum(talk_ms) filter (where is_consult), 0) as consult_engage_time_ms,
        max(last_landed_at) as last_landed_at
    from {{ source_cte }}
    group by {{ ag2_slot('start_ts') }}{% for column in grain %}, {{ column }}{% endfor %}
{%- endmacro %}

{#- Agent-time spans (AGGREGATES.md ag2_i_sess_state / ag2_i_state_rsn) that overlap the
    touched intervals (all on a full build): `spans` with resource_key, media_type_key, measure
    (the column it adds to), start_ts, end_ts (an open span: the data horizon), last_landed_at,
    then `pieces`: each span cut exactly at every 15-minute boundary (slot_start, ms).
    `which`: 'state' (sessions and states) or 'reason' (state reasons). -#}
{% macro ag2_state_pieces(which) -%}
    horizon as (
        select {{ ag2_data_horizon() }} as now_ts
    ),

    {% if which == 'state' %}
        resource_states as (
            select
                resource_state_key,
                state_name
            from {{ ref('resource_state') }}
        ),

        all_spans as (
            select
                sessions.resource_key,
                sessions.media_type_key,
                'active_time' as measure,
                cast(null as bigint) as resource_state_reason_key,
                sessions.start_ts,
                sessions.end_ts,
                sessions.last_landed_at
            from {{ ref('sm_res_session_fact') }} as sessions
            union all
            select
                states.resource_key,
                states.media_type_key,
                case resource_states.state_name
                    when 'Ready' then 'ready_time'
                    when 'NotReady' then 'not_ready_time'
                    when 'Busy' then 'busy_time'
                    when 'AfterCallWork' then 'wrap_time'
                end as measure,
                cast(null as bigint) as resource_state_reason_key,
                states.start_ts,
                states.end_ts,
                states.last_landed_at
            from {{ ref('sm_res_state_fact') }} as states
            left join resource_states on states.resource_state_key = resource_states.resource_state_key
        ),
    {% else %}
        all_spans as (
            select
                reasons.resource_key,
                reasons.media_type_key,
                'state_reason_time' as measure,
                reasons.resource_state_reason_key,
                reasons.start_ts,
                reasons.end_ts,
                reasons.last_landed_at
            from {{ ref('sm_res_state_reason_fact') }} as reasons
        ),
    {% endif %}

    spans as (
        select
            all_spans.resource_key,
            all_spans.media_type_key,
            all_spans.measure,
            all_spans.resource_state_reason_key,
            all_spans.start_ts,
            coalesce(all_spans.end_ts, horizon.now_ts) as end_ts,
            all_spans.last_landed_at
        from all_spans
        cross join horizon
        {% if is_incremental() %}
            where
                all_spans.start_ts < (select max(touched.interval_end_ts) from {{ touched_keys() }} as touched)
                and coalesce(all_spans.end_ts, horizon.now_ts)
                > (select min(touched.interval_start_ts) from {{ touched_keys() }} as touched)
        {% endif %}
    ),
{%- endmacro %}

{#- `pieces` of `span_cte` (with resource/group key columns passed through): every span cut at
    each 15-minute boundary it crosses, to the millisecond; on a cycle the touched slots only. -#}
{% macro ag2_pieces(span_cte, key_columns) -%}
    select
        slots.slot_start,
        {%- for column in key_columns %}
            {{ span_cte }}.{{ column }},
        {%- endfor %}
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

{#- Group memberships (RESOURCE_GROUP_FACT) intersected with `span_cte`: the span is cut at
    membership changes; an agent in two groups counts in both. -#}
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

{#- ag2_i_sess_state sums of `pieces_cte` per slot and `grain`. -#}
{% macro ag2_state_sums(pieces_cte, grain) -%}
    select
        {{ pieces_cte }}.slot_start as interval_start_ts,
        {%- for column in grain %}
            {{ pieces_cte }}.{{ column }},
        {%- endfor %}
        {%- for column in ['active_time', 'ready_time', 'not_ready_time', 'busy_time', 'wrap_time'] %}
            coalesce(sum({{ pieces_cte }}.ms) filter (where {{ pieces_cte }}.measure = '{{ column }}'), 0)
                as {{ column }}_ms,
        {%- endfor %}
        max({{ pieces_cte }}.last_landed_at) as last_landed_at
    from {{ pieces_cte }}
    group by {{ pieces_cte }}.slot_start{% for column in grain %}, {{ pieces_cte }}.{{ column }}{% endfor %}
{%- endmacro %}

{#- Touched sessions of ag2_credited_sessions: those whose session, state or reason rows landed
    since its high-water mark, and the open ones (theirs end at the moving horizon). -#}
{% macro ag2_credited_touched_sql() -%}
    select landed.sm_res_session_fact_key from {{ ref('sm_res_session_fact') }} as landed
    where {{ ag2_since('landed.last_landed_at') }} or landed.active_flag = 1
    union
    select landed.sm_res_session_fact_key from {{ ref('sm_res_state_fact') }} as landed
    where {{ ag2_since('landed.last_landed_at') }}
    union
    select landed.sm_res_session_fact_key from {{ ref('sm_res_state_reason_fact') }} as landed
    where {{ ag2_since('landed.last_landed_at') }}
    union
    select credited.sm_res_session_fact_key from {{ this }} as credited
    where credited.credited_open = 1
{%- endmacro %}

{#- Rows of a fact whose `column` landed after this model's high-water mark, less the look-back
    (strictly after: the rows of the last landing already built are not touched again). -#}
{% macro ag2_since(column) -%}
    {% if is_incremental() %}
        {{ column }} > {{ high_water_mark('last_landed_at') }} - interval '{{ var("lookback_minutes") }} minutes'
    {% else %}
        true
    {% endif %}
{%- endmacro %}
