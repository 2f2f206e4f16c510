{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_window('appeal_date', var('late_days', 3)) }}",
    indexes=[{'columns': ['appeal_date']}, {'columns': ['is_surge', 'appeal_date']}]
  )
}}
{#-
  Surge detection (预警) on daily counts. Method, per series (org level × org × dimension value):
    baseline λ = mean daily count over the trailing 28 days (the day itself excluded; days with no
    appeal count as 0; fewer days at the start of history), floored at 0.25;
    z = 2·(√(x + 3/8) − √(λ + 3/8))  — Anscombe's variance-stabilising transform, under which a
    Poisson(λ) count is ≈ N(0, 1);
    surge ⇔ x ≥ 3 and z ≥ 3.09 (one-sided p ≈ 0.001) and x ≥ 2λ.
  The floor keeps a single appeal in a quiet series from alarming; the minimum count keeps noise
  from tiny series out; the p-value is strict because ~10^3 series are tested per day.
-#}
{%- set lookback = 28 -%}
with counts as (

    select * from {{ ref('fct_appeal_counts_daily') }}
    where {{ in_window('appeal_date', lookback_days=lookback + var('late_days', 3)) }}

),

history_start as (

    -- index scan on appeal_date: the first day of history without reading all of it
    select appeal_date as first_date from {{ ref('fct_appeal_counts_daily') }} order by appeal_date limit 1

),

with_baseline as (

    select
        counts.*,
        coalesce(sum(appeals) over (
            partition by org_level, org_id, dimension, dimension_value
            order by appeal_date
            range between interval '{{ lookback }} days' preceding and interval '1 day' preceding
        ), 0) as trailing_appeals,
        least({{ lookback }}, counts.appeal_date - history_start.first_date) as trailing_days
    from counts
    cross join history_start

),

scored as (

    select
        *,
        greatest(case when trailing_days > 0 then trailing_appeals::numeric / trailing_days end, 0.25)
            as baseline_daily
    from with_baseline

)

select
    org_level || '|' || org_id || '|' || dimension || '|' || dimension_value || '|' || appeal_date::text
        as hotspot_day_id,
    appeal_date,
    org_level,
    org_id,
    dimension,
    dimension_value,
    appeals,
    trailing_days,
    round(baseline_daily, 3) as baseline_daily,
    round(2 * (sqrt(appeals + 0.375) - sqrt(baseline_daily + 0.375)), 3) as surge_z,
    (appeals >= 3
        and 2 * (sqrt(appeals + 0.375) - sqrt(baseline_daily + 0.375)) >= 3.09
        and appeals >= 2 * baseline_daily
        and trailing_days >= 7) as is_surge
from scored
where {{ in_window('appeal_date', var('late_days', 3)) }}
