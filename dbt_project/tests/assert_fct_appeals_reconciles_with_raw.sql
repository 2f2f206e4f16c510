-- Every work order the raw layer holds is in the appeal library exactly once, and nothing else is
-- (the library is a complete, lossless view of raw_95598). Fails with the orders that differ.
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
