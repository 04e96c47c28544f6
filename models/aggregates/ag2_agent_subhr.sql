{{ ag2_table_config('subhr', 'agent') }}

{#- ag2_agent per 15 minutes (AGGREGATES.md): every ended agent IRF row counts once, in the
    interval of its START_TS (the offer). Readings: ag2 model YAML. -#}

with

handlings as (
    select handled.*
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
