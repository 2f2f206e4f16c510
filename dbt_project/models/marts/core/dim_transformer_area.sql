{#- Transformer areas (台区) with their line and the whole org chain above: the join key between
    95598 orders and metering outage events. -#}
with areas as (

    select * from {{ ref('stg_marketing__transformer_areas') }}

),

lines as (

    select * from {{ ref('stg_marketing__lines') }}

),

orgs as (

    select * from {{ ref('int_orgs_with_ancestors') }}

)

select
    areas.transformer_area_id,
    areas.transformer_area_name,
    areas.capacity_kva,
    areas.area_type,
    areas.line_id,
    lines.line_name,
    areas.org_id as supply_station_id,
    orgs.supply_station_name,
    orgs.county_id,
    orgs.county_name,
    orgs.city_id,
    orgs.city_name,
    orgs.province_id
from areas
left join lines on lines.line_id = areas.line_id
left join orgs on orgs.org_id = areas.org_id
