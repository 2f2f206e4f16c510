-- A working-day deadline always ends right after a working day (never on a weekend or holiday).
-- A windowed (daily) run checks the orders it (re)loaded; a full build checks every order.
select a.work_order_id, a.reply_deadline_at
from {{ ref('fct_appeals') }} as a
inner join {{ ref('dim_date') }} as d on d.date_day = (a.reply_deadline_at - interval '1 day')::date
where a.reply_limit_unit = 'working_days' and not d.is_workday
  and {{ in_window('a.loaded_for_date') }}
