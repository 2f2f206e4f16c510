with source as (

    select * from {{ source('raw_marketing', 's_app') }}

)

select
    app_no as application_id,
    cons_no as customer_id,
    busi_type_code as application_type_code,
    bt.name as application_type,
    org_no as org_id,
    app_date as applied_at,
    volt_code as voltage_code,
    contract_cap::numeric as contract_capacity_kva,
    status_code as application_status_code,
    st.name as application_status,
    limit_days::integer as limit_working_days,
    finish_time as finished_at,
    archive_time as archived_at,
    upd_time as updated_at
from source
left join {{ ref('code_values') }} as bt on bt.code_type = 'APP_BUSI_TYPE' and bt.code = source.busi_type_code
left join {{ ref('code_values') }} as st on st.code_type = 'APP_STATUS_CODE' and st.code = source.status_code
