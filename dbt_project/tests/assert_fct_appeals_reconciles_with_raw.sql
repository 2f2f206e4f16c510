-- Every work order the raw layer holds is in the appeal library exactly once, and nothing else is
-- (the library is a complete, lossless view of raw_95598). Fails with the orders that differ.
-- A windowed (daily) run checks the orders loaded in its window both ways — each raw row of the
-- window is in the library, each library row of the window is in raw — through the primary keys,
-- so its cost follows the day, not the history; a full build compares everything.
{% if has_window() %}
select r.app_no as work_order_id, 'missing from fct_appeals' as problem
from {{ source('raw_95598', 'arc_s_95598_wkst') }} as r
where {{ in_window('r._data_date') }}
  and not exists (select 1 from {{ ref('fct_appeals') }} as m where m.work_order_id = r.app_no)
union all
select m.work_order_id, 'not in raw'
from {{ ref('fct_appeals') }} as m
where {{ in_window('m.loaded_for_date') }}
  and not exists (select 1 from {{ source('raw_95598', 'arc_s_95598_wkst') }} as r where r.app_no = m.work_order_id)
{% else %}
with raw as (
    select app_no as work_order_id from {{ source('raw_95598', 'arc_s_95598_wkst') }}
),
mart as (
    select work_order_id from {{ ref('fct_appeals') }}
)
select coalesce(raw.work_order_id, mart.work_order_id) as work_order_id,
       case when mart.work_order_id is null then 'missing from fct_appeals' else 'not in raw' end as problem
from raw
full outer join mart on mart.work_order_id = raw.work_order_id
where raw.work_order_id is null or mart.work_order_id is null
{% endif %}
