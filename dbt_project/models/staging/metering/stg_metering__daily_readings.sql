with source as (

    select * from {{ source('raw_metering', 'e_mp_day_read') }}

)

select
    mp_no as metering_point_id,
    data_date::date as reading_date,
    col_time as collected_at,
    pap_r::numeric as forward_active_total_kwh,
    pap_r1::numeric as tariff1_kwh,
    pap_r2::numeric as tariff2_kwh,
    pap_r3::numeric as tariff3_kwh,
    pap_r4::numeric as tariff4_kwh,
    _data_date as loaded_for_date
from source
