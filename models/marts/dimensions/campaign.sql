{{
    config(
        materialized='table',
        indexes=[{'columns': ['campaign_key'], 'unique': true}],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- CAMPAIGN (GIM; MEASURES.md "Outbound campaigns"): one row per campaign name, keyed
    infomart_key('Campaign', name), the key CONTACT_ATTEMPT_FACT, CAMPAIGN_GROUP_SESSION_FACT and
    ag2_campaign compute from the events' campaign_id (the campaign's name). Names come from
    configuration (Campaign objects, int_config__names), in configuration time: the name's
    valid_from / valid_to are the event times of the configuration changes that gave and took it;
    the group and dialing mode are the object's current attributes. A name used by two objects
    over time is the later object's row. A campaign_id that dials but has no configuration (a
    configuration gap) still has a row, named from the events, with no dbid, so every fact's key
    resolves. A table: campaigns are few. -#}

with

names as (
    select * from {{ ref('int_config__names') }}
    where object_type = 'Campaign'
),

current_versions as (
    select * from {{ ref('int_config__current') }}
    where object_type = 'Campaign'
),

dialed as (
    select distinct campaign_id
    from {{ ref('stg_events__voice_outbound') }}
),

configured as (
    select
        names.object_name as campaign_name,
        names.dbid as campaign_cfg_dbid,
        names.valid_from,
        names.valid_to,
        current_versions.is_deleted,
        case when current_versions.is_deleted then current_versions.valid_from end as deleted_ts,
        current_versions.attributes ->> 'group' as group_name,
        current_versions.attributes ->> 'dialing_mode' as dialing_mode,
        current_versions.config_version,
        row_number() over (partition by names.object_name order by names.valid_from desc, names.dbid desc) as name_rank
    from names
    inner join current_versions on names.dbid = current_versions.dbid
),

final as (
    select
        {{ infomart_key(["'Campaign'", 'campaign_name']) }} as campaign_key,
        campaign_name,
        campaign_cfg_dbid,
        group_name,
        dialing_mode,
        valid_from,
        valid_to,
        is_deleted,
        deleted_ts,
        config_version,
        true as is_configured
    from configured
    where name_rank = 1
    union all
    select
        {{ infomart_key(["'Campaign'", 'dialed.campaign_id']) }} as campaign_key,
        dialed.campaign_id as campaign_name,
        null as campaign_cfg_dbid,
        null as group_name,
        null as dialing_mode,
        null as valid_from,
        null as valid_to,
        false as is_deleted,
        null as deleted_ts,
        null as config_version,
        false as is_configured
    from dialed
    where dialed.campaign_id not in (select configured.campaign_name from configured)
)

select * from final
