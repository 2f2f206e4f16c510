{#- on-run-start: indexes the marts' keyed lookups into raw tables need, which the loader does not
    create (it indexes the key and the load date only). fct_agent_performance_monthly reads the
    calls of one month's orders by app_no; without this index every daily run scans all calls.
    Created once (checked in the catalog first, so later runs take no lock on the table). -#}
{% macro raw_lookup_indexes() -%}
do $$
begin
    if to_regclass('raw_95598.s_comm_rec') is not null
       and to_regclass('raw_95598.s_comm_rec__app_no') is null then
        create index if not exists s_comm_rec__app_no on raw_95598.s_comm_rec (app_no);
    end if;
end
$$
{%- endmacro %}
