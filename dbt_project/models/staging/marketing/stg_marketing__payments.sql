with source as (

    select * from {{ source('raw_marketing', 'a_pay_flow') }}

)

select
    pay_flow_no as payment_id,
    cons_no as customer_id,
    org_no as org_id,
    charge_ym as billing_month,
    charge_date as paid_at,
    charge_date::date as paid_date,
    pay_mode as pay_mode_code,
    'pay-' || pay_mode as channel_key,
    rcv_amt::numeric as amount_yuan,
    acct_org_no as accounting_org_id,
    _data_date as loaded_for_date
from source
