with source as (

    select * from {{ source('raw_95598', 's_comm_rec') }}

),

renamed as (

    select
        comm_id as call_id,
        app_no as work_order_id,
        agent_no as agent_id,
        call_start_time as call_started_at,
        call_end_time as call_ended_at,
        extract(epoch from (call_end_time - call_start_time))::numeric as call_seconds,
        call_dir = '1' as is_inbound,
        _data_date as loaded_for_date
    from source

)

select * from renamed
