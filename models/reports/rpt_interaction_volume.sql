{#- Interaction Volume report: ag2_id at the report levels (the customer's view: entered,
    answered, abandoned, transferred, answer and handle time) by media and interaction type, with
    the business attributes of user data (the dim columns of the mapping, USER_DATA_CUST_DIM_1) as
    columns to group or filter by (the linter renders an empty mapping, hence its noqa). -#}

with

interaction_rows as (
    {{ report_level_rows('id') }}
),

media_types as (
    select * from {{ ref('media_type') }}
),

interaction_types as (
    select * from {{ ref('interaction_type') }}
),

business_attributes as (
    select * from {{ ref('user_data_cust_dim_1') }}
)

select
    interaction_rows.report_level,
    interaction_rows.date_time_key,
    interaction_rows.interval_start_ts,
    interaction_rows.media_type_key,
    media_types.media_name,
    interaction_types.interaction_type,
    interaction_rows.user_data_cust_dim_1_key,
    {%- for entry in user_data_mapping('dim') %}
        business_attributes.{{ entry['column'] }},
    {%- endfor %}
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
left join business_attributes  -- noqa: ST11
    on interaction_rows.user_data_cust_dim_1_key = business_attributes.user_data_cust_dim_1_key
