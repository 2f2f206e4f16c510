{#- Open non-complaint appeals at risk of turning into complaints (潜在投诉倾向), latest scoring
    run, with what the agent needs to act: where, what, how urgent, why. -#}
with scores as (

    select * from {{ ref('stg_ml__complaint_propensity') }}
    where scored_for_date = (select max(scored_for_date) from {{ ref('stg_ml__complaint_propensity') }})

),

appeals as (

    select * from {{ ref('fct_appeals') }}

)

select
    scores.propensity_score_id,
    scores.scored_for_date,
    scores.work_order_id,
    scores.propensity_score,
    scores.score_rank,
    scores.score_rank <= greatest(1, ceil(0.05 * count(*) over ())) as is_top_5_percent,
    scores.top_features,
    scores.model_version,
    appeals.accepted_at,
    appeals.agent_business_type,
    appeals.primary_topic,
    appeals.sentiment_level,
    appeals.prior_contacts_30d,
    appeals.is_open,
    appeals.city_id,
    appeals.county_id,
    appeals.supply_station_id,
    appeals.transformer_area_id
from scores
inner join appeals on appeals.work_order_id = scores.work_order_id
