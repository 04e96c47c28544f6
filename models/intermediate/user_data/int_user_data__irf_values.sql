{{
    config(
        unique_key='media_server_root_ixn_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(threads_touched_for_user_data()) }}",
        indexes=[
            {'columns': ['interaction_resource_id'], 'unique': True},
            {'columns': ['media_server_root_ixn_id']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# The mapped user data of every IRF row (MEASURES.md "User data"), one column per entry of the
    mapping (var user_data_mapping, macros/user_data.sql), uncut. A call's user data is its
    CallCreated.user_data merged over by each UserDataChanged in event order (event_ts, seq,
    event_id); a digital interaction's is its InteractionCreated.user_data. Each column takes the
    latest value of its key set at or before its rule's instant:
    - CALL: the end of the call, its last event other than a UserDataChanged (the CallEnded, or,
      when that is lost, the last event that closes the call); changes after it (a disposition
      set in after-call work once the call has ended) are not the call's.
    - PARTY: the end of this party's part: its END_TS, or the end of the after-call work
      attributed to it (int_voice__after_call_work) when that is later, so the disposition an
      agent sets in after-call work is on that agent's row; while the party or its after-call
      work is open, every change so far.
    A key absent (or set to null) gives null. Recomputed per call thread (the recipe:
    threads_touched_for_user_data). #}

{%- set mapping = user_data_mapping() %}


-- the linter renders the mapping empty (no columns), which leaves loops it cannot lay out
-- noqa: disable=LT02,LT09,ST11

with

resource_rows as (
    select
        irf.interaction_resource_id,
        irf.interaction_id,
        irf.media_server_ixn_id,
        irf.media_server_root_ixn_id,
        irf.party_id,
        irf.start_ts,
        irf.end_ts,
        irf.media_type_key,
        irf.last_landed_at
    from {{ ref('interaction_resource_fact') }} as irf
    {% if is_incremental() %}
        where
            irf.media_server_root_ixn_id in (
                select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched
            )
    {% endif %}
),

call_events as (
    select
        events.call_id,
        events.event_type,
        events.event_ts,
        events.seq,
        events.event_id,
        events.user_data,
        events.landed_at
    from {{ ref('stg_events__voice_callthread') }} as events
    where events.call_id in (select resource_rows.media_server_ixn_id from resource_rows)
),

interaction_events as (
    select
        events.itx_id,
        events.event_ts,
        events.seq,
        events.event_id,
        events.user_data,
        events.landed_at
    from {{ ref('stg_events__digital_itx') }} as events
    where
        events.event_type = 'InteractionCreated'
        and events.itx_id in (select resource_rows.media_server_ixn_id from resource_rows)
),

after_call_work as (
    select
        acw.call_id,
        acw.party_id,
        acw.last_end_ts,
        acw.has_open_interval
    from {{ ref('int_voice__after_call_work') }} as acw
    where acw.call_id in (select resource_rows.media_server_ixn_id from resource_rows)
),

call_ends as (
    select
        call_id,
        max(event_ts) filter (where event_type <> 'UserDataChanged') as call_end_ts,
        max(landed_at) as last_landed_at
    from call_events
    group by call_id
),

{# every user-data event, voice and digital, as (ixn, instant, order, object) #}
user_data_events as (
    select
        call_id as ixn_id,
        event_ts,
        seq,
        event_id,
        user_data
    from call_events
    where event_type in ('CallCreated', 'UserDataChanged')
    union all
    select
        itx_id as ixn_id,
        event_ts,
        seq,
        event_id,
        user_data
    from interaction_events
),

{# one row per mapped key set by an event (jsonb_each_text: a JSON null is a SQL null) #}
key_values as (
    select
        events.ixn_id,
        events.event_ts,
        events.seq,
        events.event_id,
        pairs.key as user_data_key,
        pairs.value as user_data_value
    from user_data_events as events
    cross join lateral jsonb_each_text(events.user_data) as pairs
    where
        jsonb_typeof(events.user_data) = 'object'
        and pairs.key in {{ user_data_key_list() }}
),

mapping as (
    {% if mapping %}
        select
            entries.user_data_key,
            entries.column_name,
            entries.propagation
        from (
            values
            {% for entry in mapping %}
                (
                    '{{ entry["key"] | replace("'", "''") }}',
                    '{{ entry["column"] }}',
                    '{{ entry["propagation"] }}'
                ){{ "," if not loop.last }}
            {% endfor %}
        ) as entries (user_data_key, column_name, propagation)
    {% else %}
        select
            null::text as user_data_key,
            null::text as column_name,
            null::text as propagation
        where false
    {% endif %}
),

{# the instants of each row's two rules #}
row_instants as (
    select
        resource_rows.*,
        case
            when call_ends.call_id is null then 'infinity'::timestamptz
            else coalesce(call_ends.call_end_ts, 'infinity'::timestamptz)
        end as call_rule_ts,
        case
            when resource_rows.end_ts is null or coalesce(after_call_work.has_open_interval, false)
                then 'infinity'::timestamptz
            else greatest(resource_rows.end_ts, after_call_work.last_end_ts)
        end as party_rule_ts,
        greatest(resource_rows.last_landed_at, call_ends.last_landed_at) as call_landed_at
    from resource_rows
    left join call_ends on resource_rows.media_server_ixn_id = call_ends.call_id
    left join after_call_work
        on
            resource_rows.media_server_ixn_id = after_call_work.call_id
            and resource_rows.party_id = after_call_work.party_id
),

ranked_values as (
    select
        row_instants.interaction_resource_id,
        mapping.column_name,
        key_values.user_data_value,
        row_number() over (
            partition by row_instants.interaction_resource_id, mapping.column_name
            order by key_values.event_ts desc, key_values.seq desc, key_values.event_id desc
        ) as value_rank
    from row_instants
    inner join key_values on row_instants.media_server_ixn_id = key_values.ixn_id
    inner join mapping on key_values.user_data_key = mapping.user_data_key
    where
        key_values.event_ts
        <= case when mapping.propagation = 'PARTY' then row_instants.party_rule_ts else row_instants.call_rule_ts end
),

row_values as (
    select
        interaction_resource_id
        {%- for entry in mapping %},
            max(user_data_value) filter (where column_name = '{{ entry["column"] }}') as {{ entry['column'] }}
        {%- endfor %}
    from ranked_values
    where value_rank = 1
    group by interaction_resource_id
),

interaction_landings as (
    select
        itx_id,
        max(landed_at) as last_landed_at
    from interaction_events
    group by itx_id
)

select
    row_instants.interaction_resource_id,
    row_instants.interaction_id,
    row_instants.media_server_ixn_id,
    row_instants.media_server_root_ixn_id,
    row_instants.party_id,
    row_instants.start_ts,
    row_instants.media_type_key,
    row_instants.call_rule_ts,
    row_instants.party_rule_ts,
    {%- for entry in mapping %}
        row_values.{{ entry['column'] }},
    {%- endfor %}
    greatest(row_instants.call_landed_at, interaction_landings.last_landed_at) as last_landed_at
from row_instants
left join row_values on row_instants.interaction_resource_id = row_values.interaction_resource_id
left join interaction_landings on row_instants.media_server_ixn_id = interaction_landings.itx_id
