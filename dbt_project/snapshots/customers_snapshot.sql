{#- SCD2 history of customers (用电类别, voltage, capacity, prepaid flag, status, transformer area,
    supply station, masked address and mobile): a complaint can be read against the customer's
    attributes at the time. Built from the masked staging model, so the snapshot holds no clear
    personal data. Strategy timestamp on the source's last-change time (c_cons.upd_time): a
    version starts when the change was made in the marketing system, not when dbt ran, so a
    backfill dates history like the daily runs did. -#}
{% snapshot customers_snapshot %}
{{
  config(
    unique_key='customer_id',
    strategy='timestamp',
    updated_at='updated_at',
  )
}}
select * from {{ ref('stg_marketing__customers') }}
{% endsnapshot %}
