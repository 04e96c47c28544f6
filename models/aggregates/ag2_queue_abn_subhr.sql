{{ ag2_table_config('subhr', 'queue') }}

{#- ag2_queue_abn per 15 minutes (AGGREGATES.md): abandoned segments by MEDIATION_DURATION (exact ms) in the
    TIME_RANGE range [range_start, range_end) holding it, in the interval of the segment's entry. -#}

{{ ag2_wait_distribution('queue_abn', 'abandoned', 'mediation_duration_ms') }}
