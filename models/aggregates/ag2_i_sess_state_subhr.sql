{{ ag2_table_config('subhr', 'state', false, [{'columns': ['resource_key', 'media_type_key', 'interval_start_ts']}]) }}

{#- ag2_i_sess_state per 15 minutes (AGGREGATES.md): session spans (active_time) and state
    spans (ready, not ready, busy, wrap) cut exactly at every interval boundary, open spans up to
    the data horizon. States tile sessions, so ready + not_ready + busy + wrap = active. -#}

with

{{ ag2_state_pieces('state') }}

pieces as (
    {{ ag2_pieces('spans', ['resource_key', 'media_type_key']) }}
),

summed as (
    {{ ag2_state_sums('pieces', ['resource_key', 'media_type_key']) }}
)

{{ ag2_final_columns('i_sess_state') }}
