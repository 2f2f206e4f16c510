{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() and has_window() %}delete from {{ this }} where customer_id in (select customer_id from {{ ref('fct_appeals') }} where {{ in_window('loaded_for_date') }} and customer_id is not null){% else %}select 1{% endif %}",
    indexes=[{'columns': ['chain_id']}, {'columns': ['customer_id']}, {'columns': ['first_contact_date']}]
  )
}}
{#- One row per repeat-appeal chain: how many contacts, whether it turned into a complaint after
    earlier contacts (重复诉求转投诉), how long that took, and where it happened. Incremental like
    int_appeal_chain_members: a windowed run rebuilds the chains of the customers touched in it. -#}
with members as (

    select * from {{ ref('int_appeal_chain_members') }}
    {% if is_incremental() and has_window() %}
    where customer_id in (
        select customer_id from {{ ref('fct_appeals') }}
        where {{ in_window('loaded_for_date') }} and customer_id is not null)
    {% endif %}

),

appeals as (

    select * from {{ ref('fct_appeals') }}

),

chains as (

    select
        chain_id,
        customer_id,
        count(*) as contacts,
        min(accepted_at) as first_contact_at,
        max(accepted_at) as last_contact_at,
        min(chain_first_complaint_at) as first_complaint_at,
        bool_or(previous_was_closed) as reopened_after_closure,
        count(*) filter (where accepted_at < chain_first_complaint_at) as contacts_before_complaint
    from members
    group by 1, 2

)

select
    chains.chain_id,
    chains.customer_id,
    chains.contacts,
    chains.contacts > 1 as is_repeat_chain,
    chains.first_contact_at,
    chains.first_contact_at::date as first_contact_date,
    chains.last_contact_at,
    chains.contacts_before_complaint,
    chains.first_complaint_at,
    (chains.first_complaint_at is not null and chains.contacts_before_complaint > 0) as converted_to_complaint,
    case when chains.first_complaint_at is not null and chains.contacts_before_complaint > 0
         then round(extract(epoch from (chains.first_complaint_at - chains.first_contact_at)) / 3600.0, 1)
    end as hours_to_escalation,
    chains.reopened_after_closure,
    first.agent_business_type as first_business_type,
    first.primary_topic as first_topic,
    first.transformer_area_id,
    first.supply_station_id,
    first.county_id,
    first.city_id
from chains
inner join appeals as first on first.work_order_id = chains.chain_id
