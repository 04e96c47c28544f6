{#- AGGREGATES.md, ag2_i_sess_state: states tile sessions, so in every row ready + not ready + busy
    + wrap = active, exactly in milliseconds and up to rounding in seconds (at most 2 s for four
    rounded terms). Returns the offending rows. -#}
{% test ag2_states_add_up_to_active(model) %}
    select *
    from {{ model }}
    where
        ready_time_ms + not_ready_time_ms + busy_time_ms + wrap_time_ms <> active_time_ms
        or abs(ready_time + not_ready_time + busy_time + wrap_time - active_time) > 2
{% endtest %}
