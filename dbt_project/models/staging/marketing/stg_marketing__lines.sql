with source as (

    select * from {{ source('raw_marketing', 'g_line') }}

)

select
    line_no as line_id,
    line_name,
    org_no as org_id,
    volt_code as voltage_code
from source
