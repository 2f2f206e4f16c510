select
    work_order_id || '|' || run_date::text as propensity_score_id,
    run_date as scored_for_date,
    work_order_id,
    score::numeric as propensity_score,
    score_rank,
    top_features,
    model_version,
    trained_examples,
    trained_positives
from {{ source('ml', 'complaint_propensity') }}
