{{ ag2_table_config('subhr', 'agent_time', true) }}

{#- ag2_i_sess_state_grp per 15 minutes: the agent-time spans cut at the agent's group
    membership changes (RESOURCE_GROUP_FACT) as well as at interval boundaries; an agent in two
    groups counts in both. -#}

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

group_spans as (
    {{ ag2_group_spans('spans') }}
),

pieces as (
    {{ ag2_pieces('group_spans', ['group_key', 'media_type_key']) }}
),

summed as (
    {{ ag2_state_sums('pieces', ['group_key', 'media_type_key']) }}
)

{{ ag2_final_columns('i_sess_state_grp') }}
