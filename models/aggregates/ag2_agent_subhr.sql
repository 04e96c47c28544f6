{{ ag2_table_config('subhr', 'agent') }}

{#- ag2_agent per 15 minutes (AGGREGATES.md): every ended agent IRF row counts once, in the
    interval of its START_TS (the offer). Readings: ag2 model YAML. -#}

with

handlings as (
    select handled.*
    from {{ ref('int_aggregates__agent_handlings') }} as handled
    {{ ag2_join_touched_intervals('handled.start_ts') }}
),

summed as (
    {{ ag2_agent_sums(['resource_key', 'media_type_key', 'interaction_type_key']) }}
)

{{ ag2_final_columns('agent') }}
