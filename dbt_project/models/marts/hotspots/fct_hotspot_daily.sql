{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{% if is_incremental() and has_window() %}delete from {{ this }} where appeal_date in ({{ affected_appeal_dates() }}){% else %}select 1{% endif %}",
    indexes=[{'columns': ['appeal_date']}, {'columns': ['is_surge', 'appeal_date']}]
  )
}}
{#-
  Surge detection (预警) on the daily topic / business-type / complaint-class series of
  fct_appeal_counts_daily. Method, per series (org level × org × dimension value), on x = the day's
  DISTINCT CUSTOMERS voicing the value (`customers`: repeat calls of one customer are one voice; a
  repair request voices only equipment topics, 重复诉求 only complaints — see that model):
    baseline λ = mean daily x over the trailing 28 days (the day itself excluded; days without
    appeals count as 0; fewer days at the start of history), floored at 0.25 (a quiet series);
    z = 2·(√(x + 3/8) − √(λ + 3/8)) — Anscombe's variance-stabilising transform, under which a
    Poisson(λ) count is ≈ N(0, 1);
    surge ⇔ x ≥ 3 and z ≥ 3.09 (one-sided p ≈ 0.001) and x ≥ 2λ and ≥ 7 days of history.
  The floor keeps a single appeal in a quiet series from alarming (at λ = 0.25 a surge needs
  x ≥ 6); the minimum count keeps noise from tiny series out; the p-value is strict because ~10^3
  series are tested per day. Parameters were checked against the simulator's planted surges
  (evaluate/marts_eval.py): on 4 months of `small` data all planted surges were found and every
  flag matched a planted or an organic burst; counting every text-tagged appeal (repair calls,
  repeat calls) instead raised three false alarms for each right one on storm days.
-#}
{%- set lookback = 28 -%}
{#- Incremental: a run re-scores the days fct_appeal_counts_daily recounted (the window, late_days
    before it and the day of any older order updated in the window — macro affected_appeal_dates),
    reading their trailing 28 days. (A recounted old day also moves the baselines of the 28 days
    after it; those outside the window keep the baseline they were scored with until a full
    refresh — the alarm that fired then is what the history should show.) -#}
with {% if has_window() -%}
affected as (

    {{ affected_appeal_dates() }}

),

{% endif -%}
counts as (

    -- rows counted before the `customers` column existed fall back to appeals (until a full refresh)
    select *, coalesce(customers, appeals) as voices
    from {{ ref('fct_appeal_counts_daily') }}
    {% if has_window() -%}
    where appeal_date >= (select min(accepted_date) from affected) - {{ lookback }}
      and appeal_date <= date '{{ window_to() }}'
    {%- endif %}

),

history_start as (

    -- index scan on appeal_date: the first day of history without reading all of it
    select appeal_date as first_date from {{ ref('fct_appeal_counts_daily') }} order by appeal_date limit 1

),

with_baseline as (

    select
        counts.*,
        coalesce(sum(voices) over (
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
    voices as customers,
    trailing_days,
    round(baseline_daily, 3) as baseline_daily,
    round(2 * (sqrt(voices + 0.375) - sqrt(baseline_daily + 0.375)), 3) as surge_z,
    (voices >= 3
        and 2 * (sqrt(voices + 0.375) - sqrt(baseline_daily + 0.375)) >= 3.09
        and voices >= 2 * baseline_daily
        and trailing_days >= 7) as is_surge
from scored
{% if has_window() -%}
where appeal_date in (select accepted_date from affected)
{%- endif %}
