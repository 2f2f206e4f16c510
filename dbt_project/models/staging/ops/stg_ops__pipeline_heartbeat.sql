with source as (

    select * from {{ source('ops', 'pipeline_heartbeat') }}

),

renamed as (

    select
        dag_id || '|' || run_date::text as heartbeat_id,
        dag_id,
        run_date,
        extract(epoch from (interval_end - interval_start)) / 3600.0 as interval_hours,
        recorded_at
    from source

)

select * from renamed
