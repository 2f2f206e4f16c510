{#- Working-day sequence numbers: deadline in N working days = the day whose workday_seq is
    workday_seq(accepted day) + N. Uses the official calendar (调休 make-up days count). -#}
with days as (

    select * from {{ ref('calendar_days') }}

)

select
    date_day,
    is_workday,
    sum(case when is_workday then 1 else 0 end) over (order by date_day) as workday_seq
from days
