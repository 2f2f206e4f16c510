with source as (

    select * from {{ source('raw_marketing', 'o_org') }}

)

select
    org_no as org_id,
    org_name,
    p_org_no as parent_org_id,
    org_type as org_type_code,
    case org_type when '01' then 'province' when '02' then 'city' when '03' then 'county'
        when '04' then 'supply_station' end as org_level,
    admin_code as admin_division_code
from source
