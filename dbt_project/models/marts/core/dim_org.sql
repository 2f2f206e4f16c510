{#- One row per org unit (province, city, county, supply station) with its ancestors. Transformer
    areas and lines, the levels below the supply station, are in dim_transformer_area. -#}
select
    org_id,
    org_name,
    org_level,
    parent_org_id,
    province_id,
    province_name,
    city_id,
    city_name,
    county_id,
    county_name,
    supply_station_id,
    supply_station_name
from {{ ref('int_orgs_with_ancestors') }}
