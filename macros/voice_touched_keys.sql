{#- Touched keys of the voice models (the recipe of macros/incremental.sql): each macro is one
    query naming the calls, threads or parties whose rows a cycle may change, read relative to
    the calling model's own high-water mark (since_watermark). -#}

{#- Calls with events landed since this model's high-water mark (minus the look-back). -#}
{% macro calls_with_new_events() -%}
    select distinct call_id
    from {{ ref('stg_events__voice_callthread') }}
    where {{ since_watermark('landed_at') }}
{%- endmacro %}

{#- Threads (root_id) with parties landed since this model's high-water mark, plus the old root
    of a call whose thread just became known (its call_id: the rows it had before its
    CallCreated). -#}
{% macro threads_with_new_parties() -%}
    select root_id
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }}
    union
    select call_id as root_id
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }} and root_id <> call_id
{%- endmacro %}

{#- Calls (call_id, root_id) that use a name whose resolution may have changed since this
    model's high-water mark (renamed_names_since_watermark): facts recompute them, so a rename
    that lands after the facts that used the new name ends in the rows of a full refresh.
    Three equi-joins on an (almost always) empty set of names. -#}
{% macro calls_with_renamed_names() -%}
    select
        parties.call_id,
        parties.root_id
    from {{ ref('int_voice__parties') }} as parties
    inner join ({{ renamed_names_since_watermark() }}) as renamed
        on renamed.resource_type = 'Agent' and parties.agent_id = renamed.resource_name
    union
    select
        parties.call_id,
        parties.root_id
    from {{ ref('int_voice__parties') }} as parties
    inner join ({{ renamed_names_since_watermark() }}) as renamed
        on
            renamed.resource_type = 'Queue'
            and parties.dn_type = 'Queue'
            and coalesce(parties.queue, parties.dn) = renamed.resource_name
    union
    select
        parties.call_id,
        parties.root_id
    from {{ ref('int_voice__parties') }} as parties
    inner join ({{ renamed_names_since_watermark() }}) as renamed
        on renamed.resource_type = 'DN' and parties.dn = renamed.resource_name
{%- endmacro %}

{#- After-call work windows (agent_id, recompute_from_ts): for every agent with a new item since
    this model's high-water mark (an agent-state event, or a ring, dial or release of a party
    landed since), the agent's last Ringing or Dialing before its earliest new item
    (-infinity when none). A Ringing or Dialing ends every after-call work interval, and no
    interval after it can belong to a party released before it, so nothing of the agent before
    that instant can change. -#}
{% macro after_call_work_windows() -%}
    with new_items as (
        select
            agent_id,
            event_ts as item_ts
        from {{ ref('stg_events__voice_agentstate') }}
        where {{ since_watermark('landed_at') }}
        union all
        select
            agent_id,
            least(ringing_ts, dialing_ts, released_ts) as item_ts
        from {{ ref('int_voice__parties') }}
        where agent_id is not null and {{ since_watermark('last_landed_at') }}
    ),

    earliest_new_items as (
        select
            agent_id,
            min(item_ts) as item_ts
        from new_items
        where item_ts is not null
        group by agent_id
    )

    select
        earliest_new_items.agent_id,
        coalesce(last_start.ring_or_dial_ts, '-infinity'::timestamptz) as recompute_from_ts
    from earliest_new_items
    left join lateral (
        select parties.ring_or_dial_ts
        from {{ ref('int_voice__parties') }} as parties
        where
            parties.agent_id = earliest_new_items.agent_id
            and parties.ring_or_dial_ts < earliest_new_items.item_ts
        order by parties.ring_or_dial_ts desc
        limit 1
    ) as last_start on true
{%- endmacro %}

{#- Agent parties (call_id, party_id) whose after-call work may change in this cycle: every
    party of an after-call work window released from its start on. -#}
{% macro parties_in_after_call_work_windows() -%}
    select
        parties.call_id,
        parties.party_id
    from {{ ref('int_voice__parties') }} as parties
    inner join ({{ after_call_work_windows() }}) as windows
        on
            parties.agent_id = windows.agent_id
            and parties.released_ts >= windows.recompute_from_ts
{%- endmacro %}

{#- Threads (media_server_root_ixn_id) whose interaction_resource_fact rows may change: threads
    with new parties (and the old roots of calls whose thread became known), threads of the
    parties in an after-call work window (a party that gained or lost after-call work),
    threads using a renamed name, and digital interactions whose offers landed. -#}
{% macro threads_touched_for_resource_facts() -%}
    select root_id as media_server_root_ixn_id
    from ({{ threads_with_new_parties() }}) as new_parties
    union
    select parties.root_id as media_server_root_ixn_id
    from {{ ref('int_voice__parties') }} as parties
    inner join ({{ after_call_work_windows() }}) as windows
        on
            parties.agent_id = windows.agent_id
            and parties.released_ts >= windows.recompute_from_ts
    union
    select renamed_calls.root_id as media_server_root_ixn_id
    from ({{ calls_with_renamed_names() }}) as renamed_calls
    union
    select offers.itx_id as media_server_root_ixn_id
    from {{ ref('int_digital__offers') }} as offers
    where {{ since_watermark('offers.last_landed_at') }}
{%- endmacro %}

{#- Calls (media_server_ixn_id) whose mediation_segment_fact rows may change: calls with new
    parties, calls using a renamed name, digital interactions whose queue stays landed, and
    calls with a segment of a queue whose thresholds (int_config__queue_thresholds) landed
    since, from the new version's start on. -#}
{% macro calls_touched_for_segments() -%}
    select call_id as media_server_ixn_id
    from {{ ref('int_voice__parties') }}
    where {{ since_watermark('last_landed_at') }}
    union
    select renamed_calls.call_id as media_server_ixn_id
    from ({{ calls_with_renamed_names() }}) as renamed_calls
    union
    select stays.itx_id as media_server_ixn_id
    from {{ ref('int_digital__queue_stays') }} as stays
    where {{ since_watermark('stays.last_landed_at') }}
    union
    select segments.media_server_ixn_id
    from {{ this }} as segments
    inner join {{ ref('int_config__queue_thresholds') }} as thresholds
        on segments.resource_key = thresholds.resource_key and segments.start_ts >= thresholds.valid_from
    where {{ since_watermark('thresholds.landed_at') }}
{%- endmacro %}

{#- Interactions (media_server_root_ixn_id) whose interaction_fact row may change: voice threads
    with new events (and the old root of a call whose thread became known: its provisional
    row), every active voice thread (the call timeout can pass without a new event), and
    digital interactions with new events. -#}
{% macro interactions_touched() -%}
    select root_id as media_server_root_ixn_id
    from {{ ref('int_voice__calls') }}
    where {{ since_watermark('last_landed_at') }}
    union
    select call_id as media_server_root_ixn_id
    from {{ ref('int_voice__calls') }}
    where {{ since_watermark('last_landed_at') }} and root_id <> call_id
    union
    select media_server_root_ixn_id
    from {{ this }}
    where status = 'active' and media_type_key = 1
    union
    select itx_id as media_server_root_ixn_id
    from {{ ref('stg_events__digital_itx') }}
    where {{ since_watermark('landed_at') }}
{%- endmacro %}

{#- Calls with events landed since the model's recorded landing mark (macros/landing_marks.sql),
    for a model where most calls have no rows. -#}
{% macro calls_with_events_since_landing_mark() -%}
    select distinct call_id
    from {{ ref('stg_events__voice_callthread') }}
    where {{ since_landing_mark('landed_at') }}
{%- endmacro %}
