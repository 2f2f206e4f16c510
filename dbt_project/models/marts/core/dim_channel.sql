select
    channel_key,
    source_system,
    source_code,
    channel_name,
    channel_group,
    is_online
from {{ ref('channels') }}
