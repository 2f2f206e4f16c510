with source as (

    select * from {{ source('raw_hall', 'hall_daily') }}

)

select
    hall_no || '|' || stat_date::text as hall_day_id,
    hall_no as hall_id,
    stat_date::date as stat_date,
    ticket_cnt::integer as tickets,
    windows_open::integer as windows_open,
    staff_on_duty::integer as staff_on_duty,
    self_service_txn::integer as self_service_transactions
from source
