{#- The current hot spots (当前热点): surges of the last 3 days up to the run date, ranked, with
    their drivers — top keywords of the appeals behind them, the transformer areas they come from,
    and the metering outages linked to them. What the early-warning dashboard shows. -#}
with surges as (

    select * from {{ ref('fct_hotspot_daily') }}
    where is_surge
      and dimension = 'topic'
      and appeal_date > (
          {% if has_window() %} date '{{ window_to() }}' {% else %} (select max(appeal_date) from {{ ref('fct_hotspot_daily') }}) {% endif %}
      ) - 3
      and appeal_date <= {% if has_window() %} date '{{ window_to() }}' {% else %} (select max(appeal_date) from {{ ref('fct_hotspot_daily') }}) {% endif %}

),

appeals as (

    select * from {{ ref('fct_appeals') }}

),

members as (

    select s.hotspot_day_id, a.*
    from surges as s
    inner join appeals as a
        on a.accepted_date = s.appeal_date
        and s.dimension_value = any(a.hot_topics)
        and s.org_id = case s.org_level when 'city' then a.city_id when 'county' then a.county_id
                                        else a.supply_station_id end

),

keywords as (

    select hotspot_day_id, string_agg(keyword, '、' order by n desc, keyword) as top_keywords
    from (
        select hotspot_day_id, keyword, count(*) as n,
               row_number() over (partition by hotspot_day_id order by count(*) desc, keyword) as rn
        from members, unnest(keywords_tfidf) as keyword
        group by 1, 2
    ) as k
    where rn <= 5
    group by 1

),

areas as (

    select hotspot_day_id, string_agg(transformer_area_id || '(' || n || ')', '、' order by n desc, transformer_area_id)
               as top_transformer_areas
    from (
        select hotspot_day_id, transformer_area_id, count(*) as n,
               row_number() over (partition by hotspot_day_id order by count(*) desc, transformer_area_id) as rn
        from members
        where transformer_area_id is not null
        group by 1, 2
    ) as t
    where rn <= 3
    group by 1

),

outage_links as (

    select hotspot_day_id,
           count(*) filter (where linked_outage_count > 0) as appeals_with_linked_outage,
           count(*) filter (where is_complaint) as complaints,
           round(avg(sentiment_score), 3) as avg_sentiment
    from members
    group by 1

),

orgs as (

    select org_id, org_name from {{ ref('dim_org') }}

)

select
    s.hotspot_day_id,
    dense_rank() over (order by s.surge_z desc, s.appeals desc, s.hotspot_day_id) as hotspot_rank,
    s.appeal_date,
    s.org_level,
    s.org_id,
    orgs.org_name,
    s.dimension_value as topic,
    s.appeals,
    s.baseline_daily,
    s.surge_z,
    coalesce(o.complaints, 0) as complaints,
    coalesce(o.appeals_with_linked_outage, 0) as appeals_with_linked_outage,
    o.avg_sentiment,
    k.top_keywords,
    a.top_transformer_areas
from surges as s
left join orgs on orgs.org_id = s.org_id
left join keywords as k on k.hotspot_day_id = s.hotspot_day_id
left join areas as a on a.hotspot_day_id = s.hotspot_day_id
left join outage_links as o on o.hotspot_day_id = s.hotspot_day_id
