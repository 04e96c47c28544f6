{#- Validity ranges [valid_from, valid_to) of the rows of one entity (partition_by columns) must
    not overlap, must not run backwards, and at most one may be open (valid_to null). Returns
    the offending rows. -#}
{% test no_overlapping_ranges(model, partition_by, valid_from='valid_from', valid_to='valid_to') %}

    with

    ranges as (
        select
            {{ partition_by | join(', ') }},
            {{ valid_from }} as range_from,
            {{ valid_to }} as range_to,
            row_number() over (
                partition by {{ partition_by | join(', ') }} order by {{ valid_from }}
            ) as range_number
        from {{ model }}
    ),

    backwards as (
        select
            {% for col in partition_by %}{{ col }}, {% endfor %}
            range_from,
            range_to,
            'valid_to before valid_from' as problem
        from ranges
        where range_to < range_from
    ),

    overlapping as (
        select
            {% for col in partition_by %}one_range.{{ col }}, {% endfor %}
            one_range.range_from,
            one_range.range_to,
            'overlaps another range' as problem
        from ranges as one_range
        inner join ranges as other_range
            on
            {% for col in partition_by %}
                one_range.{{ col }} = other_range.{{ col }} and
            {% endfor %}
                one_range.range_number <> other_range.range_number
                and one_range.range_from < coalesce(other_range.range_to, 'infinity'::timestamptz)
                and other_range.range_from < coalesce(one_range.range_to, 'infinity'::timestamptz)
                and one_range.range_from < coalesce(one_range.range_to, 'infinity'::timestamptz)
                and other_range.range_from < coalesce(other_range.range_to, 'infinity'::timestamptz)
    ),

    open_ranges as (
        select
            {{ partition_by | join(', ') }},
            min(range_from) as range_from,
            cast(null as timestamptz) as range_to,
            'more than one open range' as problem
        from ranges
        where range_to is null
        group by {{ partition_by | join(', ') }}
        having count(*) > 1
    )

    select * from backwards
    union all
    select * from overlapping
    union all
    select * from open_ranges

{% endtest %}
