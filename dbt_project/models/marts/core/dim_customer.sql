{#- Customers with personal data masked (names, address house numbers, phones) — safe for BI. -#}
with customers as (

    select * from {{ ref('stg_marketing__customers') }}

),

orgs as (

    select * from {{ ref('int_orgs_with_ancestors') }}

)

select
    customers.customer_id,
    customers.customer_name_masked,
    customers.address_masked,
    customers.mobile_masked,
    customers.elec_type_code,
    customers.elec_type,
    case
        when customers.elec_type_code like '1%' then '大工业'
        when customers.elec_type_code like '2%' then '居民'
        when customers.elec_type_code like '3%' then '农业'
        when customers.elec_type_code like '4%' then '一般工商业'
        when customers.elec_type_code like '5%' then '趸售'
        else '其他'
    end as elec_type_group,
    customers.voltage_code,
    customers.voltage,
    customers.contract_capacity_kva,
    customers.area_type,
    customers.is_prepaid,
    customers.customer_status,
    customers.transformer_area_id,
    customers.line_id,
    customers.org_id as supply_station_id,
    orgs.county_id,
    orgs.city_id,
    customers.created_date,
    customers.power_on_date,
    customers.cancelled_date
from customers
left join orgs on orgs.org_id = customers.org_id
