{{ ag2_table_config('subhr', 'queue') }}

{#- ag2_queue per 15 minutes (AGGREGATES.md): every ended segment counts once, in the interval
    of its entry (MSF START_TS), with the thresholds in force then. Readings: ag2 model YAML. -#}

with

measured_segments as (
    select segments.*
    from {{ ref('int_aggregates__queue_segments') }} as segments
    {{ ag2_join_touched_intervals('segments.start_ts') }}
),

summed as (
    select
        {{ ag2_slot('start_ts') }} as interval_start_ts,
        resource_key,
        media_type_key,
        interaction_type_key,
        service_level_threshold,
        short_abandon_threshold,
        count(*) as entered,
        count(*) filter (where outcome = 'accepted') as accepted,
        count(*) filter (where outcome = 'accepted' and accepted_ms <= service_level_threshold * 1000)
            as accepted_thr,
        count(*) filter (where outcome = 'abandoned') as abandoned,
        count(*) filter (where outcome = 'abandoned' and mediation_duration_ms <= short_abandon_threshold * 1000)
            as abandoned_short,
        count(*) filter (where outcome = 'abandoned_invite') as abandoned_invite,
        count(*) filter (where outcome = 'redirected') as redirected,
        count(*) filter (where outcome = 'cleared') as cleared,
        count(*) filter (where outcome = 'routed_other') as routed_other,
        -- `distributed` is a Postgres keyword and the AGGREGATES.md column name
        count(*) filter (where outcome in ('accepted', 'abandoned_invite', 'redirected', 'routed_other'))
            as distributed,  -- noqa: RF04
        coalesce(sum(accepted_ms) filter (where outcome = 'accepted'), 0) as accepted_time_ms,
        coalesce(sum(mediation_duration_ms) filter (where outcome = 'abandoned'), 0) as abandoned_time_ms,
        coalesce(sum(engage_ms) filter (where outcome = 'accepted'), 0) as engage_time_ms,
        coalesce(sum(hold_ms) filter (where outcome = 'accepted'), 0) as hold_time_ms,
        coalesce(sum(wrap_ms) filter (where outcome = 'accepted'), 0) as wrap_time_ms,
        coalesce(sum(engage_ms + hold_ms + wrap_ms) filter (where outcome = 'accepted'), 0) as handle_time_ms,
        max(accepted_ms) filter (where outcome = 'accepted') as accepted_time_max_ms,
        max(mediation_duration_ms) filter (where outcome = 'abandoned') as abandoned_time_max_ms,
        max(last_landed_at) as last_landed_at
    from measured_segments
    group by
        {{ ag2_slot('start_ts') }},
        resource_key,
        media_type_key,
        interaction_type_key,
        service_level_threshold,
        short_abandon_threshold
)

{{ ag2_final_columns('queue') }}
