{#- Keys and touched sets of the configuration dimensions (RESOURCE_, GROUP_, SKILL,
    RESOURCE_GROUP_FACT, RESOURCE_SKILL_FACT, RESOURCE_STATE_REASON, resource_name_history). -#}

{#- RESOURCE_STATE_REASON_KEY of a (workmode, reason_code) pair, deterministic. A null
    reason_code is its own member, distinct from an empty string: the null-ness is a key part. -#}
{% macro resource_state_reason_key(workmode_sql, reason_code_sql) -%}
    {{ infomart_key([
        "'ResourceStateReason'",
        workmode_sql,
        "case when " ~ reason_code_sql ~ " is null then 'null' else 'code' end",
        reason_code_sql,
    ]) }}
{%- endmacro %}

{#- Key of a configuration object that is not a resource (AgentGroup -> GROUP_, Skill -> SKILL):
    deterministic from its object type and Configuration Database dbid. -#}
{% macro config_object_key(object_type, dbid_sql) -%}
    {{ infomart_key(["'" ~ object_type ~ "'", dbid_sql]) }}
{%- endmacro %}

{#- RESOURCE_KEY of a configured resource whose first name another object of its type had
    first (a user name reused after a deletion, say): from its dbid, never equal to a
    name-based key. -#}
{% macro resource_key_by_dbid(resource_type_sql, dbid_sql) -%}
    {{ infomart_key([resource_type_sql, "'dbid'", dbid_sql]) }}
{%- endmacro %}

{#- The RESOURCE_TYPE of a configuration object type (null for the other object types). -#}
{% macro config_resource_type(object_type_sql) -%}
    case {{ object_type_sql }}
        when 'Person' then 'Agent'
        when 'Queue' then 'Queue'
        when 'DN' then 'DN'
    end
{%- endmacro %}

{#- THE rename rule of the facts. The names whose resource is not resource_key(type, name)
    at some time (a renamed object's later names, or a reused name), with the key they stand
    for and when: a fact resolves the name it saw at its event time with
    `name = renamed.resource_name and ts >= renamed.valid_from
    and (ts < renamed.valid_to or renamed.valid_to is null)`, and falls back to
    resource_key(type, name) when no row matches. Empty when nothing was ever renamed. -#}
{% macro renamed_resources() -%}
    select
        resource_type,
        resource_name,
        valid_from,
        valid_to,
        resource_key
    from {{ ref('resource_name_history') }}
    where is_alias
{%- endmacro %}

{#- The names (resource_type, resource_name) whose resolution may have changed since this
    model's high-water mark: every name of every object with a renamed name whose
    configuration (or that of an object sharing its first name) landed since. -#}
{% macro renamed_names_since_watermark() -%}
    select distinct
        resource_type,
        resource_name
    from {{ ref('resource_name_history') }}
    where object_has_alias and {{ since_watermark('greatest(landed_at, key_landed_at)') }}
{%- endmacro %}

{#- Configuration objects (object_type, dbid) with gca-cfg events landed since this model's
    high-water mark (its landed_at): the touched keys of int_config__history. -#}
{% macro config_objects_landed_since_watermark() -%}
    select distinct
        object_type,
        dbid
    from {{ ref('stg_events__gca_cfg') }}
    where {{ since_watermark('landed_at', 'landed_at') }}
{%- endmacro %}

{#- Configuration objects (object_type, dbid) whose name runs int_config__names recomputes:
    those with gca-cfg events landed since its high-water mark, and the objects sharing a
    first name with one of their names (their keys depend on each other). -#}
{% macro touched_config_objects_for_names() -%}
    with touched as (
        select distinct
            object_type,
            dbid
        from {{ ref('int_config__history') }}
        where {{ since_watermark('landed_at', 'landed_at') }}
    ),

    touched_names as (
        select distinct
            history.object_type,
            history.object_name
        from {{ ref('int_config__history') }} as history
        inner join touched
            on history.object_type = touched.object_type and history.dbid = touched.dbid
        where history.object_name is not null
    )

    select
        object_type,
        dbid
    from touched
    {% if is_incremental() %}
        union
        select
            names.object_type,
            names.dbid
        from {{ this }} as names
        inner join touched_names
            on names.object_type = touched_names.object_type and names.original_name = touched_names.object_name
    {% endif %}
{%- endmacro %}

{#- Persons (resource_cfg_dbid) whose RESOURCE_GROUP_FACT / RESOURCE_SKILL_FACT rows are
    recomputed (the touched keys of those bridges): those whose name runs (or key) changed
    since the model's high-water mark, and those whose versions name a group / skill
    (`list_attribute`: agent_groups or skills) whose configuration landed since. -#}
{% macro touched_persons_for_bridge(member_object_type, list_attribute) -%}
    select dbid as resource_cfg_dbid
    from {{ ref('int_config__names') }}
    where object_type = 'Person' and {{ since_watermark('greatest(landed_at, key_landed_at)') }}
    union
    select history.dbid as resource_cfg_dbid
    from {{ ref('int_config__history') }} as history
    inner join (
        select distinct object_name
        from {{ ref('int_config__names') }}
        where object_type = '{{ member_object_type }}' and {{ since_watermark('landed_at') }}
    ) as members
        on jsonb_exists(history.attributes -> '{{ list_attribute }}', members.object_name)
    where history.object_type = 'Person'
{%- endmacro %}

{#- Every use of an agent, DN or queue name in rows landed since this model's high-water mark
    (int_config__seen_resources): voice parties with their added_ts, and the names of the
    facts that do not resolve names (agent-state events, digital interactions). -#}
{% macro resource_uses_since_watermark() -%}
    with

    parties as (
        select
            agent_id,
            dn,
            dn_type,
            queue,
            added_ts,
            last_landed_at
        from {{ ref('int_voice__parties') }}
        where {{ since_watermark('last_landed_at') }}
    ),

    uses as (
        select
            'Agent' as resource_type,
            'Agent' as resource_subtype,
            agent_id as resource_name,
            added_ts as used_ts,
            false as unresolved_use,
            last_landed_at as landed_at
        from parties
        where agent_id is not null
        union all
        select
            'Queue' as resource_type,
            'VirtualQueue' as resource_subtype,
            coalesce(queue, dn) as resource_name,
            added_ts as used_ts,
            false as unresolved_use,
            last_landed_at as landed_at
        from parties
        where dn_type = 'Queue' and coalesce(queue, dn) is not null
        union all
        select
            'DN' as resource_type,
            dn_type as resource_subtype,
            dn as resource_name,
            added_ts as used_ts,
            false as unresolved_use,
            last_landed_at as landed_at
        from parties
        where dn_type in ('RoutingPoint', 'IVR', 'Extension') and dn is not null
        union all
        select
            'Agent' as resource_type,
            'Agent' as resource_subtype,
            agent_id as resource_name,
            cast(null as timestamptz) as used_ts,
            true as unresolved_use,
            landed_at
        from {{ ref('stg_events__voice_agentstate') }}
        where agent_id is not null and {{ since_watermark('landed_at') }}
        union all
        select
            'Agent' as resource_type,
            'Agent' as resource_subtype,
            agent_id as resource_name,
            cast(null as timestamptz) as used_ts,
            true as unresolved_use,
            landed_at
        from {{ ref('stg_events__digital_agentstate') }}
        where agent_id is not null and {{ since_watermark('landed_at') }}
        union all
        select
            digital.resource_type,
            digital.resource_subtype,
            digital.resource_name,
            cast(null as timestamptz) as used_ts,
            true as unresolved_use,
            digital.landed_at
        from (
            select
                'Agent' as resource_type,
                'Agent' as resource_subtype,
                agent_id as resource_name,
                landed_at
            from {{ ref('stg_events__digital_itx') }}
            where {{ since_watermark('landed_at') }}
            union all
            select
                'Agent' as resource_type,
                'Agent' as resource_subtype,
                to_agent_id as resource_name,
                landed_at
            from {{ ref('stg_events__digital_itx') }}
            where {{ since_watermark('landed_at') }}
            union all
            select
                'Queue' as resource_type,
                'VirtualQueue' as resource_subtype,
                queue as resource_name,
                landed_at
            from {{ ref('stg_events__digital_itx') }}
            where {{ since_watermark('landed_at') }}
            union all
            select
                'Queue' as resource_type,
                'VirtualQueue' as resource_subtype,
                to_queue as resource_name,
                landed_at
            from {{ ref('stg_events__digital_itx') }}
            where {{ since_watermark('landed_at') }}
        ) as digital
        where digital.resource_name is not null
    )

    select * from uses
{%- endmacro %}

{#- Touched keys of int_config__seen_resources: the names used since its high-water mark. -#}
{% macro resource_names_used_since_watermark() -%}
    select distinct
        uses.resource_type,
        uses.resource_name
    from ({{ resource_uses_since_watermark() }}) as uses
{%- endmacro %}
