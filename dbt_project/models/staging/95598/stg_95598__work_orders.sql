with source as (

    select * from {{ source('raw_95598', 'arc_s_95598_wkst') }}

),

renamed as (

    select
        app_no as work_order_id,
        busi_type_code as business_type_code,
        cmpl_class_code as complaint_class_code,
        cmpl_sub_code as complaint_second_level_code,
        cmpl_grade_code as complaint_grade_code,
        source_code as order_source_code,
        urban_rural_flag,
        case urban_rural_flag when '1' then 'urban' when '2' then 'rural' end as area_type,
        prov_org_no as province_org_id,
        city_org_no as city_org_id,
        org_no as org_id,
        handle_time as accepted_at,
        handle_time::date as accepted_date,
        cust_no as customer_id,
        elec_type as elec_type_code,
        fault_type_code,
        line_no as line_id,
        tg_no as transformer_area_id,
        sensitive_flag = '1' as is_sensitive_customer,
        main_app_no as main_work_order_id,
        repeat_flag = '1' as is_repeat_call_flagged,
        wkst_status_code as status_code,
        dispatch_time as dispatched_at,
        arrive_time as arrived_at,
        arrive_minutes::numeric as arrival_minutes,
        repair_minutes::numeric as repair_minutes,
        finish_time as finished_at,
        archive_time as archived_at,
        visit_time as visited_at,
        visit_satisfaction as satisfaction_code,
        time_limit_hours::integer as time_limit_hours,
        upd_time as updated_at,
        _data_date as loaded_for_date,
        _loaded_at as loaded_at
    from source

),

decoded as (

    select
        renamed.*,
        bt.name as business_type,
        cc.name as complaint_class,
        sl.name as complaint_second_level,
        gr.name as complaint_grade,
        src.name as order_source,
        st.name as status,
        sat.name as satisfaction,
        ft.name as fault_type
    from renamed
    left join {{ ref('code_values') }} as bt on bt.code_type = 'BUSI_TYPE_CODE' and bt.code = renamed.business_type_code
    left join {{ ref('code_values') }} as cc on cc.code_type = 'CMPL_CLASS_CODE' and cc.code = renamed.complaint_class_code
    left join {{ ref('code_values') }} as sl on sl.code_type = 'CMPL_SUB_CODE' and sl.code = renamed.complaint_second_level_code
    left join {{ ref('code_values') }} as gr on gr.code_type = 'CMPL_GRADE_CODE' and gr.code = renamed.complaint_grade_code
    left join {{ ref('code_values') }} as src on src.code_type = 'SOURCE_CODE' and src.code = renamed.order_source_code
    left join {{ ref('code_values') }} as st on st.code_type = 'WKST_STATUS_CODE' and st.code = renamed.status_code
    left join {{ ref('code_values') }} as sat on sat.code_type = 'VISIT_SATISFACTION' and sat.code = renamed.satisfaction_code
    left join {{ ref('code_values') }} as ft on ft.code_type = 'FAULT_TYPE_CODE' and ft.code = renamed.fault_type_code

)

select * from decoded
