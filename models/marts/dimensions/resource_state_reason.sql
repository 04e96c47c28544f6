{{
    config(
        unique_key='resource_state_reason_key',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys('select resource_state_reason_key from ' ~ this) }}",
        indexes=[
            {'columns': ['resource_state_reason_key'], 'unique': true},
            {'columns': ['seen_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- RESOURCE_STATE_REASON (GIM): one row per (workmode, reason_code) pair seen in agent-state
    events (an AgentNotReady's workmode, AuxWork when missing; a digital MediaNotReady counts
    as AuxWork; a login starts NotReady with (AuxWork, null)) plus (AuxWork, code) of every
    NotReady action code of the configuration, keyed by the macro resource_state_reason_key
    (a null reason_code is its own member). The reason's name comes from the action code
    whose code is the reason code, else whose name is it (the simulator sends names). Small:
    every run recomputes all rows from the pairs already kept, the pairs in newly landed
    events and the action codes, so every old row is a touched key (a pair configured by an
    action code that has changed since goes), which gives the rows of a full rebuild. -#}

with

new_pairs as (
    select
        case
            when event_type = 'AgentLogin' then 'AuxWork'
            else coalesce(workmode, 'AuxWork')
        end as workmode,
        case when event_type = 'AgentNotReady' then reason_code end as reason_code,
        landed_at
    from {{ ref('stg_events__voice_agentstate') }}
    where event_type in ('AgentNotReady', 'AgentLogin') and {{ since_watermark('landed_at', 'seen_landed_at') }}
    union all
    select
        'AuxWork' as workmode,
        case when event_type = 'MediaNotReady' then reason_code end as reason_code,
        landed_at
    from {{ ref('stg_events__digital_agentstate') }}
    where event_type in ('MediaNotReady', 'MediaLogin') and {{ since_watermark('landed_at', 'seen_landed_at') }}
    {% if is_incremental() %}
        union all
        select
            workmode,
            reason_code,
            seen_landed_at as landed_at
        from {{ this }}
        where seen_landed_at is not null
    {% endif %}
),

seen_pairs as (
    select
        workmode,
        reason_code,
        max(landed_at) as seen_landed_at
    from new_pairs
    group by workmode, reason_code
),

action_codes as (
    select
        dbid,
        is_deleted,
        valid_from,
        {{ json_text('attributes', 'name') }} as action_name,
        {{ json_text('attributes', 'code') }} as action_code,
        {{ json_text('attributes', 'type') }} as action_type
    from {{ ref('int_config__current') }}
    where object_type = 'ActionCode'
),

action_code_landings as (
    select
        dbid,
        max(landed_at) as config_landed_at
    from {{ ref('int_config__history') }}
    where object_type = 'ActionCode'
    group by dbid
),

configured_pairs as (
    select distinct
        'AuxWork' as workmode,
        action_code as reason_code
    from action_codes
    where action_type = 'NotReady' and action_code is not null
),

pairs as (
    select
        coalesce(seen_pairs.workmode, configured_pairs.workmode) as workmode,
        coalesce(seen_pairs.reason_code, configured_pairs.reason_code) as reason_code,
        seen_pairs.seen_landed_at
    from seen_pairs
    full outer join configured_pairs
        on seen_pairs.workmode = configured_pairs.workmode and seen_pairs.reason_code = configured_pairs.reason_code
),

matches as (
    select
        pairs.workmode,
        pairs.reason_code,
        action_codes.dbid,
        action_codes.action_name,
        action_codes.action_code,
        action_codes.is_deleted,
        row_number() over (
            partition by pairs.workmode, pairs.reason_code
            order by
                case when action_codes.action_code = pairs.reason_code then 0 else 1 end,
                action_codes.is_deleted,
                action_codes.dbid
        ) as match_rank
    from pairs
    inner join action_codes
        on
            pairs.reason_code in (action_codes.action_code, action_codes.action_name)
            and action_codes.action_type = 'NotReady'
),

final as (
    select
        {{ resource_state_reason_key('pairs.workmode', 'pairs.reason_code') }} as resource_state_reason_key,
        case when pairs.workmode = 'AfterCallWork' then 'AfterCallWork' else 'NotReady' end as state_name,
        pairs.workmode,
        pairs.reason_code,
        case
            when pairs.reason_code is null then 'No reason'
            else coalesce(matches.action_name, 'Unknown')
        end as reason_name,
        case when matches.dbid is not null then 1 else 0 end as configured_flag,
        matches.dbid as action_code_cfg_dbid,
        matches.action_code,
        coalesce(matches.is_deleted, false) as action_code_is_deleted,
        pairs.seen_landed_at,
        action_code_landings.config_landed_at
    from pairs
    left join matches
        on
            pairs.workmode = matches.workmode
            and pairs.reason_code = matches.reason_code
            and matches.match_rank = 1
    left join action_code_landings on matches.dbid = action_code_landings.dbid
)

select * from final
