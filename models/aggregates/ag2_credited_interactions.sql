{{
    config(
        materialized='incremental',
        incremental_strategy='touched_keys',
        unique_key='media_server_root_ixn_id',
        pre_hook="{{ save_touched_keys(ag2_credited_touched_interactions()) }}",
        indexes=[
            {'columns': ['media_server_root_ixn_id']},
            {'columns': ['last_landed_at']},
        ],
    )
}}

{#- Where each interaction was counted in ag2_id at their last build: its START_TS then. The
    START_TS of a voice thread is its first call's first event, so it moves earlier when an
    earlier call of the thread lands after a later one; ag2_id's touched intervals of the next
    cycle hold both the old START_TS (read here) and the new one, so the interaction leaves the
    interval it was counted in. Built after every ag2_id level, which read its previous state
    (not by ref). -#}

{%- for level in ['subhr', 'hour', 'day', 'week', 'month', 'quarter', 'year'] %}
-- depends_on: {{ ref('ag2_id_' ~ level) }}
{%- endfor %}

with

interactions as (
    select
        media_server_root_ixn_id,
        interaction_id,
        start_ts,
        media_type_key,
        interaction_type_key,
        last_landed_at
    from {{ ref('interaction_fact') }}
    {% if is_incremental() %}
        where media_server_root_ixn_id in (
            select touched.media_server_root_ixn_id from {{ touched_keys() }} as touched
        )
    {% endif %}
),

final as (
    select
        media_server_root_ixn_id,
        interaction_id,
        start_ts as credited_start_ts,
        media_type_key,
        interaction_type_key,
        last_landed_at
    from interactions
)

select * from final
