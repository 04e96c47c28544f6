{#- Touched keys of the user-data models (the recipe of macros/incremental.sql), by call thread
    (media_server_root_ixn_id, as interaction_resource_fact). -#}

{#- Threads of `relation` (interaction_resource_fact or int_user_data__irf_values) whose rows
    landed since this model's high-water mark, plus each such row's own call as a root: the root
    a call's provisional rows had before its CallCreated told its thread. -#}
{% macro user_data_threads_landed(relation) -%}
    select landed.media_server_root_ixn_id
    from {{ relation }} as landed
    where {{ since_watermark('landed.last_landed_at') }}
    union
    select landed.media_server_ixn_id as media_server_root_ixn_id
    from {{ relation }} as landed
    where {{ since_watermark('landed.last_landed_at') }} and landed.media_server_ixn_id <> landed.media_server_root_ixn_id
{%- endmacro %}

{#- int_user_data__irf_values: threads whose IRF rows changed, and threads of calls with any new
    event (a UserDataChanged, or the CallEnded that fixes the CALL rule's instant), which the
    IRF itself may not recompute. -#}
{% macro threads_touched_for_user_data() -%}
    {{ user_data_threads_landed(ref('interaction_resource_fact')) }}
    union
    select calls.root_id as media_server_root_ixn_id
    from {{ ref('int_voice__calls') }} as calls
    where {{ since_watermark('calls.last_landed_at') }}
    union
    select calls.call_id as media_server_root_ixn_id
    from {{ ref('int_voice__calls') }} as calls
    where {{ since_watermark('calls.last_landed_at') }} and calls.root_id <> calls.call_id
{%- endmacro %}
