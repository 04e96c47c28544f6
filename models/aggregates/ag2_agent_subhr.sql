{{ ag2_table_config('subhr', 'agent') }}

{#- ag2_agent per 15 minutes (AGGREGATES.md): every ended agent IRF row counts once, in the
    interval of its START_TS (the offer). Readings: ag2 model YAML. -#}

with

handlings as (
    select
        handled.start_ts,
        handled.resource_key,
        handled.media_type_key,
        handled.interaction_type_key,
        handled.is_consult,
        handled.is_offered,
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
    from {{ ref('int_aggregates__agent_handlings') }} as handled
    {% if is_incremental() %}
        inner join {{ touched_keys() }} as touched
            on
                handled.start_ts >= touched.interval_start_ts
                and handled.start_ts < touched.interval_end_ts
    {% endif %}
),

summed as (
    {{ ag2_agent_sums(['resource_key', 'media_type_key', 'interaction_type_key']) }}
)

{{ ag2_final_columns('agent') }}
