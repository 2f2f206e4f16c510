with days as (

    select * from {{ ref('int_calendar_workdays') }}

),

calendar as (

    select * from {{ ref('calendar_days') }}

)

select
    days.date_day,
    extract(year from days.date_day)::integer as year,
    extract(quarter from days.date_day)::integer as quarter,
    extract(month from days.date_day)::integer as month,
    to_char(days.date_day, 'YYYY-MM') as year_month,
    extract(isodow from days.date_day)::integer as iso_weekday,
    extract(week from days.date_day)::integer as iso_week,
    case when extract(month from days.date_day) in (6, 7, 8) then 'summer'
         when extract(month from days.date_day) in (12, 1, 2) then 'winter'
         when extract(month from days.date_day) in (3, 4, 5) then 'spring'
         else 'autumn' end as season,
    days.is_workday,
    calendar.is_official_holiday,
    nullif(calendar.holiday_name, '') as holiday_name,
    calendar.is_makeup_workday,
    calendar.is_spring_festival_eve,
    days.workday_seq
from days
inner join calendar on calendar.date_day = days.date_day
