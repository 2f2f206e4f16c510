"""DDL of the simulated source databases and of the ground-truth database.

Names follow the real systems (lower-case Oracle-style: ``arc_s_95598_wkst``, ``c_cons``…). Source
tables deliberately carry no primary keys where the real extracts contain duplicates; updatable
tables carry ``upd_time`` for incremental extraction.
"""

from __future__ import annotations

SRC_95598 = """
create table if not exists p_code (code_type varchar(32), value varchar(8), name varchar(64), primary key (code_type, value));
create table if not exists arc_s_95598_wkst (
  app_no varchar(16), busi_type_code varchar(3), cmpl_class_code varchar(2), cmpl_sub_code varchar(4),
  cmpl_grade_code varchar(2), source_code varchar(2), urban_rural_flag varchar(1), prov_org_no varchar(16),
  city_org_no varchar(16), org_no varchar(16), handle_time timestamp, accept_content text, handle_opinion text,
  calling_no varchar(32), cust_no varchar(16), cust_name varchar(64), elec_type varchar(3), fault_addr varchar(200),
  fault_type_code varchar(2), line_no varchar(16), tg_no varchar(20), sensitive_flag varchar(1), main_app_no varchar(16),
  repeat_flag varchar(1), wkst_status_code varchar(2), dispatch_time timestamp, arrive_time timestamp,
  arrive_minutes numeric(8,1), repair_minutes numeric(8,1), finish_time timestamp, archive_time timestamp,
  visit_time timestamp, visit_satisfaction varchar(1), time_limit_hours integer, upd_time timestamp);
create index if not exists arc_s_95598_wkst_app on arc_s_95598_wkst (app_no);
create index if not exists arc_s_95598_wkst_upd on arc_s_95598_wkst (upd_time);
create table if not exists s_comm_rec (
  comm_id varchar(20), app_no varchar(16), calling_no varchar(32), called_no varchar(16), agent_no varchar(8),
  call_start_time timestamp, call_end_time timestamp, call_dir varchar(1));
create index if not exists s_comm_rec_id on s_comm_rec (comm_id);
create table if not exists s_region_outrage (
  outage_no varchar(16), org_no varchar(16), line_no varchar(16), tg_no varchar(20), outage_type_code varchar(2),
  outage_scope text, outage_reason varchar(64), pub_time timestamp, start_time timestamp, end_time timestamp,
  upd_time timestamp);
create index if not exists s_region_outrage_no on s_region_outrage (outage_no);
"""

SRC_MARKETING = """
create table if not exists o_org (org_no varchar(16) primary key, org_name varchar(64), p_org_no varchar(16),
  org_type varchar(2), admin_code varchar(6));
create table if not exists g_line (line_no varchar(16) primary key, line_name varchar(64), org_no varchar(16),
  volt_code varchar(8));
create table if not exists g_tg (tg_no varchar(20) primary key, tg_name varchar(64), line_no varchar(16),
  org_no varchar(16), tg_cap integer, urban_rural_flag varchar(1), pub_priv_flag varchar(1));
create table if not exists c_cons (cons_no varchar(16) primary key, cons_name varchar(64), elec_type_code varchar(3),
  trade_code varchar(4), volt_code varchar(8), contract_cap numeric(10,1), urban_rural_flag varchar(1),
  org_no varchar(16), tg_no varchar(20), line_no varchar(16), rca_flag varchar(1), status_code varchar(1),
  elec_addr varchar(200), mobile varchar(16), build_date date, ps_date date, cancel_date date);
-- last change of the customer record (档案变更): new connection, 销户, 费控, contact edits, 增容
alter table c_cons add column if not exists upd_time timestamp;
create index if not exists c_cons_upd on c_cons (upd_time);
create table if not exists c_mp (mp_no varchar(16) primary key, cons_no varchar(16), tg_no varchar(20),
  meter_asset_no varchar(24), t_factor integer);
alter table c_mp add column if not exists inst_date date;
create table if not exists a_pay_flow (pay_flow_no varchar(24), cons_no varchar(16), org_no varchar(16),
  charge_ym varchar(6), charge_date timestamp, pay_mode varchar(2), rcv_amt numeric(12,2), acct_org_no varchar(16));
create index if not exists a_pay_flow_no on a_pay_flow (pay_flow_no);
create index if not exists a_pay_flow_date on a_pay_flow (charge_date);
create table if not exists s_app (app_no varchar(16), cons_no varchar(16), busi_type_code varchar(3),
  org_no varchar(16), app_date timestamp, volt_code varchar(8), contract_cap numeric(10,1), status_code varchar(2),
  limit_days integer, finish_time timestamp, archive_time timestamp, upd_time timestamp);
create index if not exists s_app_no on s_app (app_no);
create index if not exists s_app_upd on s_app (upd_time);
create table if not exists p_code (code_type varchar(32), value varchar(8), name varchar(64), primary key (code_type, value));
"""

SIM_TRUTH = """
create table if not exists sim_day (sim_date date primary key, seed integer, scale varchar(16), simulated_at_rows jsonb);
create table if not exists sim_world (id integer primary key, seed integer, scale varchar(16), customers integer);
-- the day through which c_cons/c_mp hold the evolved customer base (customers.py)
alter table sim_world add column if not exists customers_as_of date;
alter table sim_world add column if not exists world_version integer;
create table if not exists customer_change_truth (change_date date, change_time timestamp, cons_no varchar(16),
  kind varchar(16), column_name varchar(32), old_value text, new_value text, event_ref varchar(32));
create index if not exists customer_change_truth_date on customer_change_truth (change_date);
create table if not exists appeal_truth (app_no varchar(16) primary key, created_date date, intent varchar(40),
  busi_type varchar(8), cmpl_class varchar(16), cmpl_sub varchar(16), topic varchar(16), phrasing_family varchar(16),
  phrasing_id varchar(64), text_noise varchar(64), label_busi_type varchar(8), label_cmpl_class varchar(16),
  mislabelled boolean, cause varchar(32), event_ref varchar(32), parent_app_no varchar(16), is_repeat boolean,
  repeat_complaint boolean, late_arrival boolean, cust_no varchar(16), tg_no varchar(20));
create table if not exists causal_link (child_app_no varchar(16), parent_ref varchar(32), parent_kind varchar(16),
  link_kind varchar(32), created_date date);
alter table appeal_truth add column if not exists handle_time timestamp;
create index if not exists causal_link_child on causal_link (child_app_no);
create table if not exists outage_truth (outage_id bigint primary key, outage_date date, tg_no varchar(20),
  start_time timestamp, end_time timestamp, planned boolean, notified boolean, storm boolean, cause varchar(32),
  prior_outages_60d integer);
create table if not exists frequent_outage_area (as_of date, tg_no varchar(20), outages_60d integer, weak_area boolean,
  primary key (as_of, tg_no));
create table if not exists meter_fault_truth (fault_date date, mp_no varchar(16), cons_no varchar(16), erc varchar(8),
  fix_days integer);
create table if not exists defect_truth (sim_date date, entity varchar(24), row_key varchar(40), kind varchar(24),
  detail text);
create index if not exists defect_truth_date on defect_truth (sim_date);
create table if not exists topic_surge (surge_date date, city_org_no varchar(16), station_org_no varchar(16),
  topic varchar(16), n_appeals integer, baseline numeric(8,2), cause varchar(32));
alter table topic_surge add column if not exists planted boolean not null default false;
alter table topic_surge add column if not exists surge_id varchar(16);
alter table topic_surge add column if not exists n_planted integer;
alter table topic_surge add column if not exists multiplier numeric(6,2);
alter table topic_surge add column if not exists tg_nos text;
alter table topic_surge add column if not exists surge_day integer;
create table if not exists weather_truth (wx_date date, city_org_no varchar(16), tmax numeric(4,1), storm boolean,
  primary key (wx_date, city_org_no));
create table if not exists row_counts (sim_date date, entity varchar(24), n integer, primary key (sim_date, entity));
-- every complaint with the chain of earlier contacts it escalated from (oldest first, the
-- complaint last), following appeal_truth.parent_app_no (= causal_link rows of parent_kind work_order)
create or replace view complaint_chain as
with recursive up(complaint_app_no, app_no, depth) as (
  select app_no, app_no, 0 from appeal_truth where busi_type = '投诉'
  union all
  select u.complaint_app_no, a.parent_app_no, u.depth + 1
  from up u join appeal_truth a on a.app_no = u.app_no
  where a.parent_app_no is not null and u.depth < 20)
select complaint_app_no, array_agg(app_no order by depth desc) as chain, max(depth) as n_prior_contacts
from up group by complaint_app_no;
-- for every non-complaint appeal: did it (directly or through repeat calls) escalate to a
-- complaint, which one (the earliest) and when (the complaint's true acceptance time)
create or replace view escalation_truth as
with recursive up(complaint_app_no, complaint_at, app_no, depth) as (
  select app_no, handle_time, parent_app_no, 1 from appeal_truth
  where busi_type = '投诉' and parent_app_no is not null
  union all
  select u.complaint_app_no, u.complaint_at, a.parent_app_no, u.depth + 1
  from up u join appeal_truth a on a.app_no = u.app_no
  where a.parent_app_no is not null and u.depth < 20),
firsts as (
  select distinct on (u.app_no) u.app_no, u.complaint_app_no, u.complaint_at
  from up u join appeal_truth a on a.app_no = u.app_no
  where a.busi_type <> '投诉'
  order by u.app_no, u.complaint_at, u.complaint_app_no)
select a.app_no, a.created_date, a.handle_time, a.busi_type, a.intent, f.complaint_app_no is not null as escalated,
       f.complaint_app_no, f.complaint_at as escalated_at,
       round((extract(epoch from f.complaint_at - a.handle_time) / 3600)::numeric, 2) as hours_to_escalation
from appeal_truth a left join firsts f using (app_no)
where a.busi_type <> '投诉';
"""
