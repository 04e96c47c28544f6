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
