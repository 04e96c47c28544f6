{{ config(materialized='view') }}

{# Voice events that contradict the call model. They stay in staging and the facts are built
    around them (a hold that never ends counts to the party's Released, say); this view says
    which events they are and why, so they are counted and can be chased upstream. Computed
    incrementally per call in int_voice__event_anomalies. #}

with

anomalies as (
    select
        call_id,
        party_id,
        event_id,
        event_type,
        event_ts,
        anomaly,
        last_landed_at
    from {{ ref('int_voice__event_anomalies') }}
)

select * from anomalies
