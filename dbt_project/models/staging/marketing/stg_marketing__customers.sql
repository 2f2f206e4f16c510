{#- PII (name, address, mobile) is masked here: nothing downstream of staging holds it in clear. -#}
with source as (

    select * from {{ source('raw_marketing', 'c_cons') }}

),

renamed as (

    select
        cons_no as customer_id,
        left(cons_name, 1) || repeat('*', greatest(char_length(cons_name) - 1, 1)) as customer_name_masked,
        elec_type_code,
        trade_code,
        volt_code as voltage_code,
        contract_cap::numeric as contract_capacity_kva,
        case urban_rural_flag when '1' then 'urban' when '2' then 'rural' end as area_type,
        org_no as org_id,
        tg_no as transformer_area_id,
        line_no as line_id,
        rca_flag = '1' as is_prepaid,
        status_code as customer_status_code,
        {{ mask_address('elec_addr') }} as address_masked,
        case when mobile ~ '^1[3-9][0-9]{9}$' then left(mobile, 3) || '****' || right(mobile, 4) end as mobile_masked,
        build_date::date as created_date,
        ps_date::date as power_on_date,
        cancel_date::date as cancelled_date,
        upd_time::timestamp as updated_at
    from source

)

select
    renamed.*,
    et.name as elec_type,
    vt.name as voltage,
    cs.name as customer_status
from renamed
left join {{ ref('code_values') }} as et on et.code_type = 'ELEC_TYPE_CODE' and et.code = renamed.elec_type_code
left join {{ ref('code_values') }} as vt on vt.code_type = 'VOLT_CODE' and vt.code = renamed.voltage_code
left join {{ ref('code_values') }} as cs on cs.code_type = 'CONS_STATUS_CODE' and cs.code = renamed.customer_status_code
