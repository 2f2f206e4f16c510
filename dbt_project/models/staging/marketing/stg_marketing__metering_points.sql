with source as (

    select * from {{ source('raw_marketing', 'c_mp') }}

)

select
    mp_no as metering_point_id,
    cons_no as customer_id,
    tg_no as transformer_area_id,
    meter_asset_no as meter_asset_id,
    t_factor::integer as transformer_factor
from source
