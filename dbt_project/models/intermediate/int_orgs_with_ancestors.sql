{#- Every org unit with its province / city / county / supply-station ancestors as columns. -#}
with orgs as (

    select * from {{ ref('stg_marketing__orgs') }}

),

walk as (

    select
        o.org_id,
        o.org_name,
        o.org_level,
        o.parent_org_id,
        p1.org_id as p1_id, p1.org_level as p1_level,
        p2.org_id as p2_id, p2.org_level as p2_level,
        p3.org_id as p3_id, p3.org_level as p3_level
    from orgs as o
    left join orgs as p1 on p1.org_id = o.parent_org_id
    left join orgs as p2 on p2.org_id = p1.parent_org_id
    left join orgs as p3 on p3.org_id = p2.parent_org_id

),

ancestors as (

    select
        org_id,
        org_name,
        org_level,
        parent_org_id,
        {% for level in ['province', 'city', 'county', 'supply_station'] %}
        case
            when org_level = '{{ level }}' then org_id
            when p1_level = '{{ level }}' then p1_id
            when p2_level = '{{ level }}' then p2_id
            when p3_level = '{{ level }}' then p3_id
        end as {{ level }}_id{{ ',' if not loop.last }}
        {% endfor %}
    from walk

)

select
    ancestors.*,
    prov.org_name as province_name,
    city.org_name as city_name,
    county.org_name as county_name,
    station.org_name as supply_station_name
from ancestors
left join orgs as prov on prov.org_id = ancestors.province_id
left join orgs as city on city.org_id = ancestors.city_id
left join orgs as county on county.org_id = ancestors.county_id
left join orgs as station on station.org_id = ancestors.supply_station_id
