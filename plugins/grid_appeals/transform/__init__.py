"""dbt invocation (the models themselves live in dbt_project/)."""
