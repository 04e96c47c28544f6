{#- The touched intervals of the ag2 tables: the pre-hook query of each table, saved with
    `save_touched_keys` (macros/incremental.sql). Each query lists the 15-minute slots a cycle
    may change (`touched_slots`), then the intervals of the table's level holding them. A fact
    row is new when it landed after the table's high-water mark (less the look-back). -#}

{#- Config of an ag2 table of `level`: incremental by interval with the touched-keys recipe;
    `kind` names its touched-interval query (queue, agent, agent_time, interaction). -#}
{% macro ag2_table_config(level, kind, by_group=false, extra_indexes=[]) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='touched_keys',
        unique_key='date_time_key',
        pre_hook="{{ save_touched_keys(ag2_touched_intervals('" ~ level ~ "', '" ~ kind ~ "', " ~ by_group ~ ")) }}",
        indexes=[
            {'columns': ['date_time_key']},
            {'columns': ['interval_start_ts']},
            {'columns': ['last_landed_at']},
        ] + extra_indexes,
    ) }}
{%- endmacro %}

{#- The touched-interval query of `kind` at `level`. -#}
{% macro ag2_touched_intervals(level, kind, by_group=false) -%}
    {%- if kind == 'queue' -%}
        {{ ag2_touched_queue_intervals(level) }}
    {%- elif kind == 'agent' -%}
        {{ ag2_touched_agent_intervals(level, by_group) }}
    {%- elif kind == 'agent_time' -%}
        {{ ag2_touched_agent_time_intervals(level, by_group) }}
    {%- elif kind == 'interaction' -%}
        {{ ag2_touched_interaction_intervals(level) }}
    {%- elif kind == 'campaign' -%}
        {{ ag2_touched_campaign_intervals(level) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown touched-interval kind '" ~ kind ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#- True for the rows whose `column` landed after this model's high-water mark, less the
    look-back (strictly after: the rows of the last landing already built are not touched
    again), and for a fact's rows (`<alias>.last_landed_at`) whose UPDATE_AUDIT_KEY is above the
    audit key this model was last built at: a recomputation can change a fact row without a newer
    landing (its after-call work, once the agent's later events are in), and a build killed
    between the facts and this model leaves landings behind its mark (the chaos benchmark found
    both). On a full build every row. -#}
{% macro ag2_since(column) -%}
    {% if is_incremental() %}
        ({{ landed_since(column, high_water_mark('last_landed_at'), strict=true) }}{{ ag2_or_changed(column) }})
    {% else %}
        true
    {% endif %}
{%- endmacro %}

{#- Queue families: the entry slots of the segments of calls whose MSF or IRF rows landed (a
    target's late result changes its segment's outcome), and of a queue's segments from the
    instant its thresholds changed, for threshold versions that landed. Entries never move
    (START_TS is the Queued event). -#}
{% macro ag2_touched_queue_intervals(level) -%}
    with

    landed_calls as (
        select landed.media_server_ixn_id from {{ ref('mediation_segment_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
        union
        select landed.media_server_ixn_id from {{ ref('interaction_resource_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    ),

    changed_thresholds as (
        select
            thresholds.resource_key,
            min(thresholds.valid_from) as changed_from
        from {{ ref('int_config__queue_thresholds') }} as thresholds
        where {{ ag2_since('thresholds.landed_at') }}
        group by thresholds.resource_key
    ),

    touched_slots as (
        select {{ ag2_slot('segments.start_ts') }} as slot_start
        from {{ ref('mediation_segment_fact') }} as segments
        where segments.media_server_ixn_id in (select landed_calls.media_server_ixn_id from landed_calls)
        union
        select {{ ag2_slot('segments.start_ts') }} as slot_start
        from {{ ref('mediation_segment_fact') }} as segments
        inner join changed_thresholds
            on
                segments.resource_key = changed_thresholds.resource_key
                and segments.start_ts >= changed_thresholds.changed_from
    )

    {{ ag2_intervals_of_slots(level, 'touched_slots') }}
{%- endmacro %}

{#- Agent families: the offer slots of the IRF rows of calls whose IRF rows landed; with
    `by_group`, also every offer of an agent whose group membership landed. -#}
{% macro ag2_touched_agent_intervals(level, by_group=false) -%}
    with

    landed_calls as (
        select landed.media_server_ixn_id from {{ ref('interaction_resource_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    ),

    regrouped_agents as (
        select memberships.resource_key from {{ ref('resource_group_fact') }} as memberships
        where {% if by_group %}{{ ag2_since('memberships.last_landed_at') }}{% else %}false{% endif %}
    ),

    touched_slots as (
        select {{ ag2_slot('handled.start_ts') }} as slot_start
        from {{ ref('interaction_resource_fact') }} as handled
        where handled.media_server_ixn_id in (select landed_calls.media_server_ixn_id from landed_calls)
        union
        select {{ ag2_slot('handled.start_ts') }} as slot_start
        from {{ ref('interaction_resource_fact') }} as handled
        where handled.resource_key in (select regrouped_agents.resource_key from regrouped_agents)
    )

    {{ ag2_intervals_of_slots(level, 'touched_slots') }}
{%- endmacro %}

{#- Agent-time families: the slots of a changed session from the earliest instant whose time
    may have changed to the later of its end now (open: the data horizon) and its end at the last
    build (ag2_credited_sessions), so time a late event removes is removed too. The earliest
    instant: the session's start when it is new (not credited yet) or, with `by_group`, when its
    agent's group membership landed; else the earliest START_TS of its state and reason rows
    landed since the mark (the agent-state facts rebuild a run from its start, so a late event
    changes no time before a landed row starts), and, when its end moved (a logout, a timeout,
    the horizon of an open session), the earlier of its old and new end. An open session whose
    rows did not change is thus touched only from the previous horizon, not from its login.
    ag2_credited_sessions is read without ref: it is built after the aggregates that read its
    previous state (none yet on the first cycle). -#}
{% macro ag2_touched_agent_time_intervals(level, by_group=false) -%}
    {%- set credited = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='ag2_credited_sessions'
    ) -%}
    with

    landed_rows as (
        select
            landed.sm_res_session_fact_key,
            landed.start_ts
        from {{ ref('sm_res_state_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
        union all
        select
            landed.sm_res_session_fact_key,
            landed.start_ts
        from {{ ref('sm_res_state_reason_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    ),

    landed_sessions as (
        select
            sm_res_session_fact_key,
            min(start_ts) as changed_from_ts
        from landed_rows
        group by sm_res_session_fact_key
    ),

    landed_session_rows as (
        select landed.sm_res_session_fact_key from {{ ref('sm_res_session_fact') }} as landed
        where {{ ag2_since('landed.last_landed_at') }}
    ),

    regrouped_agents as (
        select memberships.resource_key from {{ ref('resource_group_fact') }} as memberships
        where {% if by_group %}{{ ag2_since('memberships.last_landed_at') }}{% else %}false{% endif %}
    ),

    credited as (
        {% if credited is not none %}
            select
                credited.sm_res_session_fact_key,
                credited.credited_end_ts,
                credited.credited_open
            from {{ credited }} as credited
        {% else %}
            select
                cast(null as bigint) as sm_res_session_fact_key,
                cast(null as timestamptz) as credited_end_ts,
                0 as credited_open
            where false
        {% endif %}
    ),

    candidate_sessions as (
        select
            sessions.sm_res_session_fact_key,
            sessions.resource_key,
            sessions.start_ts,
            coalesce(sessions.end_ts, {{ ag2_data_horizon() }}) as end_ts,
            credited.sm_res_session_fact_key is not null as was_credited,
            credited.credited_end_ts
        from {{ ref('sm_res_session_fact') }} as sessions
        left join credited on sessions.sm_res_session_fact_key = credited.sm_res_session_fact_key
        where
            sessions.active_flag = 1
            or credited.credited_open = 1
            or sessions.sm_res_session_fact_key in (
                select landed_session_rows.sm_res_session_fact_key from landed_session_rows
            )
            or sessions.sm_res_session_fact_key in (select landed_sessions.sm_res_session_fact_key from landed_sessions)
            or sessions.resource_key in (select regrouped_agents.resource_key from regrouped_agents)
    ),

    changed_sessions as (
        select
            candidate_sessions.end_ts,
            candidate_sessions.credited_end_ts,
            case
                when
                    not candidate_sessions.was_credited
                    or candidate_sessions.resource_key in (select regrouped_agents.resource_key from regrouped_agents)
                    then candidate_sessions.start_ts
                else
                    greatest(
                        candidate_sessions.start_ts,
                        least(
                            landed_sessions.changed_from_ts,
                            case
                                when candidate_sessions.end_ts <> candidate_sessions.credited_end_ts
                                    then least(candidate_sessions.end_ts, candidate_sessions.credited_end_ts)
                            end
                        )
                    )
            end as changed_from_ts
        from candidate_sessions
        left join landed_sessions
            on candidate_sessions.sm_res_session_fact_key = landed_sessions.sm_res_session_fact_key
    ),

    touched_slots as (
        select
            generate_series(
                {{ ag2_slot('changed_sessions.changed_from_ts') }},
                greatest(changed_sessions.end_ts, coalesce(changed_sessions.credited_end_ts, changed_sessions.end_ts)),
                interval '15 minutes'
            ) as slot_start
        from changed_sessions
        where changed_sessions.changed_from_ts is not null
    )

    {{ ag2_intervals_of_slots(level, 'touched_slots') }}
{%- endmacro %}

{#- ag2_id: the start slots of the interactions whose row, IRF rows or user-data keys landed,
    now and at the last build (ag2_credited_interactions: a voice thread's START_TS moves earlier
    when an earlier call of it lands late, and the interval it was counted in loses it).
    ag2_credited_interactions is read without ref: it is built after the ag2_id tables (none yet
    on the first cycle). -#}
{% macro ag2_touched_interaction_intervals(level) -%}
    {%- set credited = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='ag2_credited_interactions'
    ) -%}
    with

    landed_interactions as (
        {{ ag2_landed_interactions() }}
    ),

    {# where the interactions were counted at the last build #}
    credited as (
        {% if credited is not none and is_incremental() %}
            select
                credited.media_server_root_ixn_id,
                credited.credited_start_ts
            from {{ credited }} as credited
        {% else %}
            select
                cast(null as text) as media_server_root_ixn_id,
                cast(null as timestamptz) as credited_start_ts
            where false
        {% endif %}
    ),

    touched_slots as (
        select {{ ag2_slot('interactions.start_ts') }} as slot_start
        from {{ ref('interaction_fact') }} as interactions
        where interactions.media_server_root_ixn_id in (
            select landed_interactions.media_server_root_ixn_id from landed_interactions
        )
        union
        select {{ ag2_slot('credited.credited_start_ts') }} as slot_start
        from credited
        where credited.media_server_root_ixn_id in (
            select landed_interactions.media_server_root_ixn_id from landed_interactions
        )
        {% if is_incremental() %}
            {# a row of an unknown media or interaction type is provisional (its interaction's
               first event, which names them, had not landed): its interaction may since have
               started earlier, in another interval, so its own interval is recomputed too #}
            union
            select provisional.interval_start_ts as slot_start
            from {{ this }} as provisional
            where {{ unknown_key() }} in (provisional.media_type_key, provisional.interaction_type_key)
        {% endif %}
    )

    {{ ag2_intervals_of_slots(level, 'touched_slots') }}
{%- endmacro %}

{#- The interactions whose row, IRF rows or user-data keys landed since this model's mark. -#}
{% macro ag2_landed_interactions() -%}
    select landed.media_server_root_ixn_id from {{ ref('interaction_fact') }} as landed
    where {{ ag2_since('landed.last_landed_at') }}
    union
    select landed.media_server_root_ixn_id from {{ ref('interaction_resource_fact') }} as landed
    where {{ ag2_since('landed.last_landed_at') }}
    union
    select landed.media_server_root_ixn_id from {{ ref('irf_user_data_keys') }} as landed
    where {{ ag2_since('landed.last_landed_at') }}
{%- endmacro %}

{#- ag2_credited_interactions' touched interactions: those whose row, IRF rows or user-data keys
    landed since its high-water mark (what ag2_id touched), and the provisional ones (a call seen
    before its thread: its row goes once the thread is known). -#}
{% macro ag2_credited_touched_interactions() -%}
    {{ ag2_landed_interactions() }}
    union
    select credited.media_server_root_ixn_id from {{ this }} as credited
    where {{ unknown_key() }} in (credited.media_type_key, credited.interaction_type_key)
{%- endmacro %}

{#- ag2_campaign: the slots of the dial attempts (their START_TS) whose CONTACT_ATTEMPT_FACT rows
    landed or changed. Attempts never move (START_TS is the RecordDialed). -#}
{% macro ag2_touched_campaign_intervals(level) -%}
    with

    touched_slots as (
        select {{ ag2_slot('attempts.start_ts') }} as slot_start
        from {{ ref('contact_attempt_fact') }} as attempts
        where {{ ag2_since('attempts.last_landed_at') }}
    )

    {{ ag2_intervals_of_slots(level, 'touched_slots') }}
{%- endmacro %}

{#- ` or <fact>.update_audit_key > <the audit key this model was last built at>` for a fact's
    `<alias>.last_landed_at`, else nothing. -#}
{% macro ag2_or_changed(column) -%}
    {%- if column.endswith('.last_landed_at') -%}
        {{ ' or ' ~ column.split('.')[0] ~ '.update_audit_key > ' ~ last_built_audit_key() }}
    {%- endif -%}
{%- endmacro %}

{#- ag2_credited_sessions' touched sessions: those whose session, state or reason rows landed
    since its high-water mark, and the open ones (theirs end at the moving horizon). -#}
{% macro ag2_credited_touched_sessions() -%}
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

{#- The join of an input row to the touched intervals of this cycle: `ts_column` inside one of
    them (on a full build, no join). The second pair of conditions bounds `ts_column` by the
    intervals' overall span: the planner estimates a range join to the temporary table at a
    third of the input and then scans the whole input table (1.3 s for ag2_queue_subhr at 5M
    events, 3 hours touched), while a bound by two scalar subqueries is a range of the input's
    index (DECISIONLOG.md, "Aggregates: the touched intervals bound the input's index range"). -#}
{% macro ag2_join_touched_intervals(ts_column) -%}
    {% if is_incremental() %}
        inner join {{ touched_keys() }} as touched
            on
                {{ ts_column }} >= touched.interval_start_ts
                and {{ ts_column }} < touched.interval_end_ts
                and {{ ts_column }} >= (select min(span.interval_start_ts) from {{ touched_keys() }} as span)
                and {{ ts_column }} < (select max(span.interval_end_ts) from {{ touched_keys() }} as span)
    {% endif %}
{%- endmacro %}
