with heartbeats as (

    select * from {{ ref('stg_ops__pipeline_heartbeat') }}

)

select
    heartbeat_id,
    dag_id,
    run_date,
    interval_hours,
    recorded_at
from heartbeats
