select
    taxonomy.category_id,
    taxonomy.business_type_code,
    taxonomy.business_type,
    taxonomy.complaint_class_code,
    taxonomy.complaint_class,
    taxonomy.second_level_code,
    taxonomy.second_level,
    nullif(taxonomy.hot_topic, '') as hot_topic,
    taxonomy.business_type = '投诉' as is_complaint
from {{ ref('appeal_taxonomy') }} as taxonomy
