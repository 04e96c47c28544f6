{{ ag2_table_config(
    'subhr', 'agent_time', extra_indexes=[{'columns': ['resource_key', 'media_type_key', 'interval_start_ts']}]
) }}

{#- ag2_i_sess_state per 15 minutes (AGGREGATES.md): session spans (active_time) and state
    spans (ready, not ready, busy, wrap) cut exactly at every interval boundary, open spans up to
    the data horizon. States tile sessions, so ready + not_ready + busy + wrap = active. -#}

with

spans as (
    select
        spans.resource_key,
        spans.media_type_key,
        spans.measure,
        spans.start_ts,
        spans.end_ts,
        spans.last_landed_at
    from {{ ref('int_aggregates__state_spans') }} as spans
    {% if is_incremental() %}
        where
            spans.start_ts < (select max(touched.interval_end_ts) from {{ touched_keys() }} as touched)
            and spans.end_ts > (select min(touched.interval_start_ts) from {{ touched_keys() }} as touched)
    {% endif %}
),

pieces as (
    {{ ag2_pieces('spans', ['resource_key', 'media_type_key']) }}
),

summed as (
    {{ ag2_state_sums('pieces', ['resource_key', 'media_type_key']) }}
)

{{ ag2_final_columns('i_sess_state') }}
