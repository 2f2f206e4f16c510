with source as (

    select * from {{ source('raw_marketing', 'g_tg') }}

)

select
    tg_no as transformer_area_id,
    tg_name as transformer_area_name,
    line_no as line_id,
    org_no as org_id,
    tg_cap::numeric as capacity_kva,
    case urban_rural_flag when '1' then 'urban' when '2' then 'rural' end as area_type,
    pub_priv_flag as public_private_flag
from source
