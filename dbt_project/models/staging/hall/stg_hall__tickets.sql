with workbook as (

    select *, 'workbook' as export_kind from {{ source('raw_hall', 'hall_ticket') }}

),

legacy as (

    select *, 'legacy_csv' as export_kind from {{ source('raw_hall', 'hall_ticket_legacy') }}

),

unioned as (

    select ticket_no, hall_no, busi_code, take_time, call_time, finish_time, window_no, staff_no,
           appoint_flag, no_show_flag, cust_no, export_kind, _data_date
    from workbook
    union all
    select ticket_no, hall_no, busi_code, take_time, call_time, finish_time, window_no, staff_no,
           appoint_flag, no_show_flag, cust_no, export_kind, _data_date
    from legacy

)

select
    ticket_no as ticket_id,
    hall_no as hall_id,
    busi_code as hall_business_code,
    hb.name as hall_business,
    take_time as ticket_taken_at,
    take_time::date as ticket_date,
    call_time as called_at,
    finish_time as finished_at,
    extract(epoch from (call_time - take_time))::numeric / 60.0 as wait_minutes,
    extract(epoch from (finish_time - call_time))::numeric / 60.0 as handling_minutes,
    window_no as window_id,
    staff_no as staff_id,
    appoint_flag::text in ('1', 'true', 'Y') as is_appointment,
    no_show_flag::text in ('1', 'true', 'Y') as is_no_show,
    cust_no as customer_id,
    export_kind,
    _data_date as loaded_for_date
from unioned
left join {{ ref('code_values') }} as hb on hb.code_type = 'HALL_BUSI' and hb.code = unioned.busi_code
