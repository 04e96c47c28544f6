{{
    config(
        unique_key='resource_cfg_dbid',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(touched_persons_for_bridge('AgentGroup', 'agent_groups')) }}",
        indexes=[
            {'columns': ['resource_group_fact_key'], 'unique': true},
            {'columns': ['resource_key', 'start_ts']},
            {'columns': ['group_key', 'start_ts']},
            {'columns': ['resource_cfg_dbid']},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- RESOURCE_GROUP_FACT (GIM): an agent's membership of an agent group over configuration time,
    one row per uninterrupted membership, from the Person versions' agent_groups (names). Each
    name is resolved to the AgentGroup whose name run covers the Person version's valid_from
    (else the group that had that name nearest in time; else the unknown group -1, the name
    kept in group_name). A membership ends at the first Person version without it, or at the
    Person's deletion; end_ts null while open. THE attribution rule is the doc block
    group_attribution_rule (models/marts/_infomart__docs.md).
    Incremental per Person: the touched keys (macro touched_persons_for_bridge) are the persons
    whose configuration (or key) changed, or whose versions name a group whose configuration
    landed, since the last run; they are recomputed whole. -#}

{%- set start_ms = 'cast(extract(epoch from spans.start_ts) * 1000 as bigint)' %}

with

person_versions as (
    select
        history.dbid,
        history.config_version,
        history.valid_from,
        history.valid_to,
        history.is_deleted,
        history.attributes,
        row_number() over (partition by history.dbid order by history.config_version) as version_number
    from {{ ref('int_config__history') }} as history
    where
        history.object_type = 'Person'
        {% if is_incremental() %}
            and history.dbid in (select touched.resource_cfg_dbid from {{ touched_keys() }} as touched)
        {% endif %}
),

persons as (
    select
        dbid,
        max(object_key) as resource_key,
        max(greatest(landed_at, key_landed_at)) as landed_at
    from {{ ref('int_config__names') }}
    where
        object_type = 'Person'
        {% if is_incremental() %}
            and dbid in (select touched.resource_cfg_dbid from {{ touched_keys() }} as touched)
        {% endif %}
    group by dbid
),

memberships as (
    select
        person_versions.dbid,
        person_versions.version_number,
        person_versions.valid_from,
        person_versions.valid_to,
        jsonb_array_elements_text(
            case
                when jsonb_typeof(person_versions.attributes -> 'agent_groups') = 'array'
                    then person_versions.attributes -> 'agent_groups'
                else cast('[]' as jsonb)
            end
        ) as group_name
    from person_versions
    where not person_versions.is_deleted
),

group_runs as (
    select
        object_key,
        object_name,
        dbid,
        valid_from,
        valid_to,
        landed_at
    from {{ ref('int_config__names') }}
    where object_type = 'AgentGroup'
),

candidates as (
    select
        memberships.*,
        group_runs.object_key as group_key,
        group_runs.landed_at as group_landed_at,
        row_number() over (
            partition by memberships.dbid, memberships.version_number, memberships.group_name
            order by
                case
                    when
                        memberships.valid_from >= group_runs.valid_from
                        and (memberships.valid_from < group_runs.valid_to or group_runs.valid_to is null)
                        then 0
                    else 1
                end,
                abs(extract(epoch from (group_runs.valid_from - memberships.valid_from))),
                group_runs.dbid
        ) as match_rank
    from memberships
    left join group_runs on memberships.group_name = group_runs.object_name
),

resolved as (
    select
        dbid,
        version_number,
        valid_from,
        valid_to,
        coalesce(group_key, {{ unknown_key() }}) as group_key,
        coalesce(cast(group_key as text), 'name:' || group_name) as member_id,
        group_name,
        group_landed_at,
        row_number() over (
            partition by dbid, version_number, coalesce(cast(group_key as text), 'name:' || group_name)
            order by group_name
        ) as copy_number
    from candidates
    where match_rank = 1
),

islands as (
    select
        *,
        version_number - row_number() over (partition by dbid, member_id order by version_number) as island
    from resolved
    where copy_number = 1
),

spans as (
    select
        dbid,
        group_key,
        member_id,
        (array_agg(group_name order by version_number))[1] as group_name,
        min(valid_from) as start_ts,
        (array_agg(valid_to order by version_number desc))[1] as end_ts,
        max(group_landed_at) as group_landed_at
    from islands
    group by dbid, group_key, member_id, island
),

final as (
    select
        {{ infomart_key(["'ResourceGroup'", 'spans.dbid', 'spans.member_id', start_ms]) }}
            as resource_group_fact_key,
        persons.resource_key,
        spans.group_key,
        spans.dbid as resource_cfg_dbid,
        spans.group_name,
        spans.start_ts,
        spans.end_ts,
        {{ date_time_key('spans.start_ts') }} as start_date_time_key,
        {{ date_time_key('spans.end_ts') }} as end_date_time_key,
        case when spans.end_ts is null then 1 else 0 end as active_flag,
        greatest(persons.landed_at, spans.group_landed_at) as last_landed_at
    from spans
    inner join persons on spans.dbid = persons.dbid
)

select
    final.*,
    {{ audit_key_columns() }}
from final
