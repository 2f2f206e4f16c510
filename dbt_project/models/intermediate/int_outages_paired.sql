{{ config(materialized='table', indexes=[{'columns': ['transformer_area_id', 'started_at']}]) }}
{#- Measured outages: an ERC14 power-lost event paired with the next power-restored event of the
    same transformer area (within 48 h). Source of truth for 频繁停电, independent of complaints. -#}
with events as (

    select * from {{ ref('stg_metering__terminal_events') }}
    where erc_code = 'ERC14' and transformer_area_id is not null

),

ordered as (

    select
        event_id,
        transformer_area_id,
        event_kind,
        event_at,
        lead(event_kind) over w as next_kind,
        lead(event_at) over w as next_at
    from events
    window w as (partition by transformer_area_id order by event_at, event_id)

)

select
    event_id as outage_id,
    transformer_area_id,
    event_at as started_at,
    event_at::date as outage_date,
    case when next_kind = 'power_restored' and next_at <= event_at + interval '48 hours' then next_at end
        as restored_at,
    case when next_kind = 'power_restored' and next_at <= event_at + interval '48 hours'
        then round(extract(epoch from (next_at - event_at)) / 60.0, 1) end as duration_minutes
from ordered
where event_kind = 'power_lost'
