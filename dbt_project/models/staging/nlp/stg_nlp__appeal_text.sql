with source as (

    select * from {{ source('nlp', 'appeal_text') }}

)

select
    app_no || '|' || to_char(version_ts, 'YYYY-MM-DD"T"HH24:MI:SS') as appeal_text_version_id,
    app_no as work_order_id,
    version_ts as version_at,
    data_date as processed_for_date,
    tag as template_tag,
    accept_text as accept_text_masked,
    opinion_text as opinion_text_masked,
    keywords_tfidf,
    keywords_textrank,
    entities,
    topics,
    sentiment_score,
    sentiment_level,
    sentiment_cues,
    agent_business_type,
    agent_complaint_class,
    model_business_type,
    model_business_type_conf,
    model_complaint_class,
    model_complaint_class_conf,
    model_second_level,
    model_second_level_conf,
    model_version,
    review_flag,
    review_reasons
from source
