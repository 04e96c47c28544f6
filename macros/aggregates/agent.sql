{#- Agent handling of the aggregates (AGGREGATES.md ag2_agent, ag2_agent_grp). -#}

{#- The sums of ag2_agent over `handlings`, grouped by the slot and `grain` (column list). -#}
{% macro ag2_agent_sums(grain, source_cte='handlings') -%}
    select
        {{ ag2_slot('start_ts') }} as interval_start_ts,
        {{ grain | join(', ') }},
        count(*) filter (where not is_consult and is_offered) as offered,
        coalesce(sum(talk_count) filter (where not is_consult and is_offered), 0) as accepted,
        count(*) filter (where not is_consult and is_offered and technical_result = 'Rejected') as rejected,
        count(*) filter (where not is_consult and is_offered and technical_result = 'Redirected') as redirected,
        count(*) filter (
            where
                not is_consult and is_offered
                and technical_result = 'Abandoned' and result_reason = 'AbandonedWhileRinging'
        ) as abandoned_invite,
        count(*) filter (where not is_consult and resource_role = 'Initiated') as initiated,
        coalesce(sum(hold_count) filter (where not is_consult), 0) as hold,
        coalesce(sum(after_call_work_count) filter (where not is_consult), 0) as wrap,
        count(*) filter (where not is_consult and technical_result = 'Transferred') as transfer_init,
        coalesce(sum(talk_count) filter (where not is_consult and resource_role = 'ReceivedTransfer'), 0)
            as xfer_received_accepted,
        coalesce(sum(talk_count) filter (where not is_consult and resource_role = 'ReceivedConference'), 0)
            as conf_received_accepted,
        coalesce(sum(cons_init_count) filter (where not is_consult), 0) as consult_init,
        count(*) filter (where is_consult and resource_role = 'ReceivedConsult') as consult_offered,
        coalesce(sum(talk_count) filter (where is_consult and resource_role = 'ReceivedConsult'), 0)
            as consult_accepted,
        coalesce(sum(ring_ms) filter (where not is_consult and is_offered), 0) as invite_time_ms,
        coalesce(sum(dial_ms) filter (where not is_consult and resource_role = 'Initiated'), 0) as dial_time_ms,
        coalesce(sum(talk_ms) filter (where not is_consult), 0) as engage_time_ms,
        coalesce(sum(hold_ms) filter (where not is_consult), 0) as hold_time_ms,
        coalesce(sum(after_call_work_ms) filter (where not is_consult), 0) as wrap_time_ms,
        coalesce(sum(talk_ms + hold_ms + after_call_work_ms) filter (where not is_consult), 0) as handle_time_ms,
        coalesce(sum(talk_ms) filter (where is_consult), 0) as consult_engage_time_ms,
        max(last_landed_at) as last_landed_at
    from {{ source_cte }}
    group by {{ ag2_slot('start_ts') }}{% for column in grain %}, {{ column }}{% endfor %}
{%- endmacro %}
