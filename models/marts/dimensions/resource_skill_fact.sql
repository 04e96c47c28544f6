{{
    config(
        unique_key='resource_cfg_dbid',
        incremental_strategy='touched_keys',
        pre_hook="{{ save_touched_keys(touched_persons_for_bridge('Skill', 'skills')) }}",
        indexes=[
            {'columns': ['resource_skill_fact_key'], 'unique': true},
            {'columns': ['resource_key', 'start_ts']},
            {'columns': ['skill_key', 'start_ts']},
            {'columns': ['resource_cfg_dbid']},
            {'columns': ['last_landed_at']},
        ],
        post_hook="{{ analyze_if_stale() }}",
    )
}}

{#- RESOURCE_SKILL_FACT (GIM): an agent's skill level over configuration time, one row per
    uninterrupted (skill, level), from the Person versions' skills ({name: level}). Each skill
    name is resolved to the Skill whose name run covers the Person version's valid_from (else
    the skill that had that name nearest in time; else the unknown skill -1, the name kept in
    skill_name). A row ends at the first Person version with another level or without the
    skill, or at the Person's deletion; end_ts null while open. Attribution as for groups
    (doc block group_attribution_rule). Incremental per Person like RESOURCE_GROUP_FACT. -#}

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
        member.skill_name,
        cast(member.skill_level as integer) as skill_level
    from person_versions
    inner join jsonb_each_text(
        case
            when jsonb_typeof(person_versions.attributes -> 'skills') = 'object'
                then person_versions.attributes -> 'skills'
            else cast('{}' as jsonb)
        end
    ) as member (skill_name, skill_level) on true
    where not person_versions.is_deleted
),

skill_runs as (
    select
        object_key,
        object_name,
        dbid,
        valid_from,
        valid_to,
        landed_at
    from {{ ref('int_config__names') }}
    where object_type = 'Skill'
),

candidates as (
    select
        memberships.*,
        skill_runs.object_key as skill_key,
        skill_runs.landed_at as skill_landed_at,
        row_number() over (
            partition by memberships.dbid, memberships.version_number, memberships.skill_name
            order by
                case
                    when
                        memberships.valid_from >= skill_runs.valid_from
                        and (memberships.valid_from < skill_runs.valid_to or skill_runs.valid_to is null)
                        then 0
                    else 1
                end,
                abs(extract(epoch from (skill_runs.valid_from - memberships.valid_from))),
                skill_runs.dbid
        ) as match_rank
    from memberships
    left join skill_runs on memberships.skill_name = skill_runs.object_name
),

resolved as (
    select
        dbid,
        version_number,
        valid_from,
        valid_to,
        coalesce(skill_key, {{ unknown_key() }}) as skill_key,
        coalesce(cast(skill_key as text), 'name:' || skill_name) as member_id,
        skill_name,
        skill_level,
        skill_landed_at,
        row_number() over (
            partition by dbid, version_number, coalesce(cast(skill_key as text), 'name:' || skill_name)
            order by skill_name
        ) as copy_number
    from candidates
    where match_rank = 1
),

islands as (
    select
        *,
        version_number - row_number() over (partition by dbid, member_id, skill_level order by version_number) as island
    from resolved
    where copy_number = 1
),

spans as (
    select
        dbid,
        skill_key,
        member_id,
        skill_level,
        (array_agg(skill_name order by version_number))[1] as skill_name,
        min(valid_from) as start_ts,
        (array_agg(valid_to order by version_number desc))[1] as end_ts,
        max(skill_landed_at) as skill_landed_at
    from islands
    group by dbid, skill_key, member_id, skill_level, island
),

final as (
    select
        {{ infomart_key(["'ResourceSkill'", 'spans.dbid', 'spans.member_id', 'spans.skill_level', start_ms]) }}
            as resource_skill_fact_key,
        persons.resource_key,
        spans.skill_key,
        spans.dbid as resource_cfg_dbid,
        spans.skill_name,
        spans.skill_level,
        spans.start_ts,
        spans.end_ts,
        {{ date_time_key('spans.start_ts') }} as start_date_time_key,
        {{ date_time_key('spans.end_ts') }} as end_date_time_key,
        case when spans.end_ts is null then 1 else 0 end as active_flag,
        greatest(persons.landed_at, spans.skill_landed_at) as last_landed_at
    from spans
    inner join persons on spans.dbid = persons.dbid
)

select
    final.*,
    {{ audit_key_columns() }}
from final
