{{ config(materialized='ephemeral') }}

{#- The state-reason spans of ag2_i_state_rsn (AGGREGATES.md): SM_RES_STATE_REASON_FACT rows
    (measure state_reason_time); an open span ends at the data horizon. Ephemeral: the aggregates
    read the spans of their touched intervals only (the filter on start_ts reaches the fact's
    start_ts index). -#}

with

reasons as (
    select
        resource_key,
        media_type_key,
        resource_state_reason_key,
        start_ts,
        end_ts,
        last_landed_at
    from {{ ref('sm_res_state_reason_fact') }}
),

final as (
    select
        resource_key,
        media_type_key,
        resource_state_reason_key,
        'state_reason_time' as measure,
        start_ts,
        coalesce(end_ts, {{ ag2_data_horizon() }}) as end_ts,
        last_landed_at
    from reasons
)

select * from final
