{#- AGGREGATES.md, ag2_queue: in every row the outcomes add up to `entered`, and `distributed` is
    the sum of the Diverted outcomes. Returns the offending rows. -#}
{% test ag2_outcomes_add_up(model) %}
    select *
    from {{ model }}
    where
        entered <> accepted + abandoned + abandoned_invite + redirected + cleared + routed_other
        or distributed <> accepted + abandoned_invite + redirected + routed_other
        or abandoned_short > abandoned
        or accepted_thr > accepted
{% endtest %}
