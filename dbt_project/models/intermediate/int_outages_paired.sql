{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_window('outage_date', var('late_days', 3)) }}",
    indexes=[{'columns': ['transformer_area_id', 'started_at']}, {'columns': ['outage_date']},
             {'columns': ['outage_id'], 'unique': True}]
  )
}}
{#- Outages per transformer area, one row per outage event:
    1. MEASURED: an ERC14 power-lost event paired with the next power-restored event of the same
       transformer area (within 48 h) — the primary source, independent of complaints;
    2. NOTIFIED only: an outage notice (s_region_outrage, planned and fault) of the area with no
       measured outage starting within ±60 min of it — fills the days whose metering event file
       failed to load (truncated gzip …), so one lost file does not hide outages from 频繁停电
       monitoring for the next 60 days.
    Incremental: a run recomputes outages starting in its window (and `late_days` before); events
    are read 2 days around the window so pairs across midnight are complete. -#}
{%- set pad = var('late_days', 3) + 2 -%}
with events as (

    select * from {{ ref('stg_metering__terminal_events') }}
    where erc_code = 'ERC14' and transformer_area_id is not null
      {% if has_window() %}
      -- restores after midnight of the last day still pair: read 2 days past the window
      and event_at >= date '{{ window_from() }}' - {{ pad }} and event_at < date '{{ window_to() }}' + 3
      {% endif %}

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

),

measured as (

    select
        event_id as outage_id,
        transformer_area_id,
        event_at as started_at,
        event_at::date as outage_date,
        case when next_kind = 'power_restored' and next_at <= event_at + interval '48 hours' then next_at end
            as restored_at,
        case when next_kind = 'power_restored' and next_at <= event_at + interval '48 hours'
            then round(extract(epoch from (next_at - event_at)) / 60.0, 1) end as duration_minutes,
        'metering' as detected_by
    from ordered
    where event_kind = 'power_lost'

),

notices as (

    select distinct on (outage_notice_id) *
    from {{ ref('stg_95598__outage_notices') }}
    where transformer_area_id is not null and outage_started_at is not null
      and {{ in_window('outage_started_at', pad) }}
    order by outage_notice_id, updated_at desc nulls last

),

notified_only as (

    select
        n.outage_notice_id as outage_id,
        n.transformer_area_id,
        n.outage_started_at as started_at,
        n.outage_started_at::date as outage_date,
        n.outage_ended_at as restored_at,
        round(extract(epoch from (n.outage_ended_at - n.outage_started_at)) / 60.0, 1) as duration_minutes,
        'notice' as detected_by
    from notices as n
    where not exists (
        select 1 from measured as m
        where m.transformer_area_id = n.transformer_area_id
          and m.started_at between n.outage_started_at - interval '60 minutes'
                               and n.outage_started_at + interval '60 minutes')

),

unioned as (

    select * from measured
    union all
    select * from notified_only

)

select * from unioned
where {{ in_window('outage_date', var('late_days', 3)) }}
