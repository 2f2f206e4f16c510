{#- SCD2 history of customers (用电类别, voltage, capacity, prepaid flag, status, transformer area,
    supply station, masked address): a complaint can be read against the customer's attributes at
    the time. Built from the masked staging model, so the snapshot holds no clear personal data. -#}
{% snapshot customers_snapshot %}
{{
  config(
    unique_key='customer_id',
    strategy='check',
    check_cols=['elec_type_code', 'voltage_code', 'contract_capacity_kva', 'is_prepaid',
                'customer_status_code', 'transformer_area_id', 'org_id', 'address_masked'],
  )
}}
select * from {{ ref('stg_marketing__customers') }}
{% endsnapshot %}
