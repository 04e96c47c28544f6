{#- The PARTY_ID of a digital IRF row (an offer) or MSF row (a stay in a queue): the agent (or
    queue) and the epoch milliseconds of the Offered (or Queued). Natural, so that the same
    interaction delivered twice, by two sources or replayed, gives the same rows (an event id is
    not: which copy of a duplicate is kept may differ). -#}
{% macro digital_party_id(name, ts) -%}
    {{ name }} || '@' || cast(extract(epoch from {{ ts }}) * 1000 as bigint)
{%- endmacro %}

{#- Digital interactions (itx_id) with events landed since the model's high-water mark: the
    touched keys of the per-interaction digital models. -#}
{% macro digital_interactions_since_watermark() -%}
    select distinct itx_id
    from {{ ref('stg_events__digital_itx') }}
    where {{ since_watermark('landed_at') }}
{%- endmacro %}

{#- The CTEs the per-interaction digital models start from (inside their `with`):
    interaction_events (the touched interactions' events, all of them on a full build),
    interactions (media from InteractionCreated, last landing) and ordered_events (event_rank in
    (event_ts, seq, event_id) order per interaction). -#}
{% macro digital_interaction_ctes() -%}
    interaction_events as (
        select events.*
        from {{ ref('stg_events__digital_itx') }} as events
        {% if is_incremental() %}
            where events.itx_id in (select touched.itx_id from {{ touched_keys() }} as touched)
        {% endif %}
    ),

    interactions as (
        select
            itx_id,
            max(media_type) filter (where event_type = 'InteractionCreated') as media,
            max(landed_at) as last_landed_at
        from interaction_events
        group by itx_id
    ),

    ordered_events as (
        select
            itx_id,
            event_id,
            event_type,
            event_ts,
            agent_id,
            queue,
            completion_reason,
            row_number() over (partition by itx_id order by event_ts, seq, event_id) as event_rank
        from interaction_events
    )
{%- endmacro %}
