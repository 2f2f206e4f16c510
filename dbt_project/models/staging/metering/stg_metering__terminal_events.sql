with source as (

    select * from {{ source('raw_metering', 'terminal_event') }}

)

select
    event_id,
    tmnl_addr as terminal_address,
    mp_no as metering_point_id,
    tg_no as transformer_area_id,
    erc_code,
    case erc_code
        when 'ERC14' then case when event_desc like '%上电%' then 'power_restored' else 'power_lost' end
        when 'ERC24' then 'voltage_out_of_limit'
        when 'ERC13' then 'meter_fault'
        when 'ERC27' then 'reading_decreased'
        when 'ERC29' then 'meter_running_fast'
        when 'ERC30' then 'meter_stopped'
        when 'ERC31' then 'reading_failed'
    end as event_kind,
    event_time as event_at,
    event_time::date as event_date,
    event_desc as event_description,
    _data_date as loaded_for_date
from source
