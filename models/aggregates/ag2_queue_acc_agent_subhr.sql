{{ ag2_table_config('subhr', 'queue') }}

{#- ag2_queue_acc_agent per 15 minutes (AGGREGATES.md): accepted segments by accepted time (exact ms) in the
    TIME_RANGE range [range_start, range_end) holding it, in the interval of the segment's entry. -#}

{{ ag2_wait_distribution('queue_acc_agent', 'accepted', 'accepted_ms') }}
