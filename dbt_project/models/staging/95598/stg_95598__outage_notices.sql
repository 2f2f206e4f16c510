with source as (

    select * from {{ source('raw_95598', 's_region_outrage') }}

),

renamed as (

    select
        outage_no as outage_notice_id,
        org_no as org_id,
        line_no as line_id,
        tg_no as transformer_area_id,
        outage_type_code,
        case outage_type_code when '01' then 'planned' when '02' then 'fault' end as outage_type,
        outage_scope,
        outage_reason,
        pub_time as published_at,
        pub_time is not null as was_notified,
        start_time as outage_started_at,
        end_time as outage_ended_at,
        upd_time as updated_at,
        _data_date as loaded_for_date
    from source

)

select * from renamed
