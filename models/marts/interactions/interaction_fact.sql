{{
    config(
        unique_key='media_server_root_ixn_id',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(interactions_touched()) }}",
        indexes=[
            {'columns': ['interaction_id'], 'unique': True},
            {'columns': ['media_server_root_ixn_id']},
            {'columns': ['start_ts']},
            {'columns': ['status']},
            {'columns': ['last_landed_at']},
        ],
        post_hook=["{{ analyze_if_stale() }}"],
    )
}}

{# INTERACTION_FACT (MEASURES.md): one row per voice call thread and per digital interaction.
    START_TS is the first event; END_TS the CallEnded of the thread's last call (Completed for
    digital). A call whose CallEnded never comes is closed at its last event once it has had
    no activity for var('call_timeout_hours'), measured against the latest event time seen in
    staging (never the wall clock, so rebuilds give the same rows). Until every call of the
    thread has ended the row is active with a null END_TS. Active rows are re-examined on
    every run, because the timeout can pass without a new event of theirs. A call seen before
    its CallCreated stands for its own interaction (keyed by its call_id, type unknown) until
    its thread is known; that call's old root is then touched (interactions_touched), so the
    provisional row goes. #}

with

latest_event as (
    select max(event_ts) as now_ts
    from {{ ref('stg_events__voice_callthread') }}
),

thread_calls as (
    select
        calls.*,
        case
            when calls.call_ended_ts is not null then calls.call_ended_ts
            when calls.last_event_ts <= latest_event.now_ts - interval '{{ var("call_timeout_hours") }} hours'
                then calls.last_event_ts
        end as closed_ts,
        row_number() over (
            partition by calls.root_id
            order by coalesce(calls.created_ts, calls.first_event_ts), calls.call_id
        ) as call_rank
    from {{ ref('int_voice__calls') }} as calls
    cross join latest_event
    {% if is_incremental() %}
        where calls.root_id in (select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched)
    {% endif %}
),

voice_threads as (
    select
        root_id,
        min(first_event_ts) as start_ts,
        case when count(closed_ts) = count(*) then max(closed_ts) end as end_ts,
        max(last_landed_at) as last_landed_at
    from thread_calls
    group by root_id
),

voice_interactions as (
    select
        {{ infomart_key(["'Voice'", 'voice_threads.root_id']) }} as interaction_id,
        1 as media_type_key,
        coalesce(interaction_type.interaction_type_key, {{ unknown_key() }}) as interaction_type_key,
        first_call.call_id as media_server_ixn_id,
        voice_threads.root_id as media_server_root_ixn_id,
        voice_threads.start_ts,
        voice_threads.end_ts,
        first_call.ani as source_address,
        first_call.dnis as target_address,
        voice_threads.last_landed_at
    from voice_threads
    left join thread_calls as first_call
        on voice_threads.root_id = first_call.root_id and first_call.call_rank = 1
    left join {{ ref('interaction_type') }} as interaction_type
        on first_call.call_type = interaction_type.interaction_type
),

digital_events as (
    select events.*
    from {{ ref('stg_events__digital_itx') }} as events
    {% if is_incremental() %}
        where events.itx_id in (select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched)
    {% endif %}
),

digital_itx as (
    select
        itx_id,
        min(event_ts) as start_ts,
        min(case when event_type = 'Completed' then event_ts end) as end_ts,
        max(case when event_type = 'InteractionCreated' then media_type end) as media_type,
        max(case when event_type = 'InteractionCreated' then direction end) as direction,
        max(case when event_type = 'InteractionCreated' then customer_id end) as customer_id,
        max(landed_at) as last_landed_at
    from digital_events
    group by itx_id
),

first_queues as (
    select
        itx_id,
        queue,
        row_number() over (partition by itx_id order by event_ts, seq) as queue_rank
    from digital_events
    where event_type = 'Queued'
),

digital_interactions as (
    select
        {{ infomart_key(["'Digital'", 'digital_itx.itx_id']) }} as interaction_id,
        coalesce(media_type.media_type_key, {{ unknown_key() }}) as media_type_key,
        coalesce(interaction_type.interaction_type_key, {{ unknown_key() }}) as interaction_type_key,
        digital_itx.itx_id as media_server_ixn_id,
        digital_itx.itx_id as media_server_root_ixn_id,
        digital_itx.start_ts,
        digital_itx.end_ts,
        digital_itx.customer_id as source_address,
        first_queues.queue as target_address,
        digital_itx.last_landed_at
    from digital_itx
    left join first_queues on digital_itx.itx_id = first_queues.itx_id and first_queues.queue_rank = 1
    left join {{ ref('media_type') }} as media_type
        on lower(media_type.media_name_code) = digital_itx.media_type
    left join {{ ref('interaction_type') }} as interaction_type
        on digital_itx.direction = interaction_type.interaction_type
),

interactions as (
    select * from voice_interactions
    union all
    select * from digital_interactions
),

final as (
    select
        interaction_id,
        media_type_key,
        interaction_type_key,
        media_server_ixn_id,
        media_server_root_ixn_id,
        start_ts,
        end_ts,
        {{ date_time_key('start_ts') }} as start_date_time_key,
        {{ date_time_key('end_ts') }} as end_date_time_key,
        source_address,
        target_address,
        case when end_ts is null then 'active' else 'completed' end as status,
        case when end_ts is null then 1 else 0 end as active_flag,
        last_landed_at
    from interactions
)

select
    final.*,
    {{ audit_key_columns() }}
from final
