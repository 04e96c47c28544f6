{{ config(materialized='view') }}

{# Raw events the transformation left out, one row per landed copy, with the reason
    (macros/events.sql discard_reason). The contract rejects such events at ingest; these
    reached raw another way (landed under an older contract, written by hand). Staging's
    pre-hooks keep the table (save_discards); a cycle never stops on them. #}

-- depends_on: {{ ref('stg_events__voice_callthread') }}
-- depends_on: {{ ref('stg_events__voice_agentstate') }}
-- depends_on: {{ ref('stg_events__digital_itx') }}
-- depends_on: {{ ref('stg_events__digital_agentstate') }}
-- depends_on: {{ ref('stg_events__voice_outbound') }}
-- depends_on: {{ ref('stg_events__gca_cfg') }}

with

discards as (
    select
        source_table,
        event_id,
        event_type,
        discard_reason,
        payload,
        landed_at,
        archive_file,
        archive_line,
        kafka_partition,
        kafka_offset
    from {{ transform_discards_relation() }}
)

select * from discards
