{#- Interaction Volume report: ag2_id at the report levels (the customer's view: entered,
    answered, abandoned, transferred, answer and handle time) by media and interaction type. The
    business-attribute keys of user data join here once the user-data marts exist. -#}

with

interaction_rows as (
    {{ report_level_rows('id') }}
),

media_types as (
    select * from {{ ref('media_type') }}
),

interaction_types as (
    select * from {{ ref('interaction_type') }}
)

select
    interaction_rows.report_level,
    interaction_rows.date_time_key,
    interaction_rows.interval_start_ts,
    interaction_rows.media_type_key,
    media_types.media_name,
    interaction_types.interaction_type,
    interaction_rows.entered,
    interaction_rows.answered,
    interaction_rows.abandoned,
    interaction_rows.transferred,
    interaction_rows.answer_time_ms,
    interaction_rows.answer_time_max_ms,
    interaction_rows.handle_time_ms
from interaction_rows
left join media_types on interaction_rows.media_type_key = media_types.media_type_key
left join interaction_types on interaction_rows.interaction_type_key = interaction_types.interaction_type_key
