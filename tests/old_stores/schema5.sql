BEGIN TRANSACTION;
CREATE TABLE allocation_rows (patient_id TEXT, discharge_id TEXT, episode_id TEXT, block_id TEXT, scheme TEXT, month TEXT, funder TEXT, days INTEGER, amount_pence INTEGER, rule TEXT, service TEXT, organisation TEXT);
INSERT INTO "allocation_rows" VALUES('P1','D1','E1','','HDS2','2020-10','hds',15,150000,'free-period','interim_bed','OCC');
INSERT INTO "allocation_rows" VALUES('P1','D1','E1','','HDS2','2020-10','bau',12,120000,'assessed','interim_bed','OCC');
INSERT INTO "allocation_rows" VALUES('P1','D1','E1','','HDS2','2020-11','bau',30,300000,'assessed','interim_bed','OCC');
INSERT INTO "allocation_rows" VALUES('P1','D1','E1','','HDS2','2020-12','bau',31,310000,'assessed','interim_bed','OCC');
INSERT INTO "allocation_rows" VALUES('P2','D2','E2','','HDS2','2020-10','hds',31,186000,'free-period','home_care','OCCG');
INSERT INTO "allocation_rows" VALUES('P2','D2','E2','','HDS2','2020-11','hds',11,66000,'free-period','home_care','OCCG');
INSERT INTO "allocation_rows" VALUES('P2','D2','E2','','HDS2','2020-11','council',19,114000,'after-free-period-assessment-pending','home_care','OCCG');
INSERT INTO "allocation_rows" VALUES('P2','D2','E2','','HDS2','2020-12','council',31,186000,'after-free-period-assessment-pending','home_care','OCCG');
INSERT INTO "allocation_rows" VALUES('','','','B1','HDS2','2020-10','hds',31,310000,'block-cost','block','OCC');
INSERT INTO "allocation_rows" VALUES('','','','B1','HDS2','2020-11','hds',30,300000,'block-cost','block','OCC');
CREATE TABLE "block_costs" (
   "block_id" TEXT,
   "description" TEXT,
   "scheme" TEXT,
   "organisation" TEXT,
   "start_date" TEXT,
   "end_date" TEXT,
   "amount_pence" INTEGER,
   "_extra" TEXT,
   "_load" INTEGER,
   "_until_load" INTEGER, _row INTEGER,
   PRIMARY KEY ("block_id", "_load")
);
INSERT INTO "block_costs" VALUES('B1','Unoccupied beds','HDS2','OCC','2020-10-01','2020-11-30',610000,'{}',1,NULL,2);
CREATE TABLE derived (name TEXT PRIMARY KEY, load_id INTEGER, rulebook_version TEXT, computed_at TEXT, rows INTEGER);
INSERT INTO "derived" VALUES('allocations',2,'c823eb0337b3bb848f5a12e1fca6b54d623f87d55623582a28b2ff3b00d9ad69','2026-12-06T02:13:06+00:00',10);
CREATE TABLE "discharges" (
   "discharge_id" TEXT,
   "patient_id" TEXT,
   "discharge_date" TEXT,
   "kind" TEXT,
   "nhs_number" TEXT,
   "_extra" TEXT,
   "_load" INTEGER,
   "_until_load" INTEGER, _row INTEGER,
   PRIMARY KEY ("discharge_id", "_load")
);
INSERT INTO "discharges" VALUES('D1','P1','2020-10-05','hospital','','{}',1,NULL,2);
INSERT INTO "discharges" VALUES('D2','P2','2020-10-01','hospital','','{}',1,NULL,3);
CREATE TABLE "episodes" (
   "episode_id" TEXT,
   "discharge_id" TEXT,
   "service" TEXT,
   "start_date" TEXT,
   "end_date" TEXT,
   "weekly_pence" INTEGER,
   "organisation" TEXT,
   "restart" INTEGER,
   "bau_commissioned" INTEGER,
   "_extra" TEXT,
   "_load" INTEGER,
   "_until_load" INTEGER, _row INTEGER,
   PRIMARY KEY ("episode_id", "_load")
);
INSERT INTO "episodes" VALUES('E1','D1','interim_bed','2020-10-05',NULL,70000,'OCC',0,0,'{}',1,NULL,2);
INSERT INTO "episodes" VALUES('E2','D2','home_care','2020-10-01','2020-12-31',35000,'OCCG',0,0,'{}',1,2,3);
INSERT INTO "episodes" VALUES('E2','D2','home_care','2020-10-01','2020-12-31',42000,'OCCG',0,0,'{}',2,NULL,3);
CREATE TABLE "events" (
   "event_id" TEXT,
   "discharge_id" TEXT,
   "event" TEXT,
   "date" TEXT,
   "outcome" TEXT,
   "_extra" TEXT,
   "_load" INTEGER,
   "_until_load" INTEGER, _row INTEGER,
   PRIMARY KEY ("event_id", "_load")
);
INSERT INTO "events" VALUES('V1','D1','care_act_assessment','2020-10-20','','{}',2,NULL,2);
CREATE TABLE load_discharges (load_id INTEGER NOT NULL, discharge_id TEXT NOT NULL, PRIMARY KEY (load_id, discharge_id)) WITHOUT ROWID;
INSERT INTO "load_discharges" VALUES(2,'D1');
INSERT INTO "load_discharges" VALUES(2,'D2');
CREATE TABLE "loads" (
   "id" INTEGER PRIMARY KEY,
   "loaded_at" TEXT,
   "loaded_by" TEXT,
   "source" TEXT,
   "files" TEXT,
   "rows" TEXT,
   "changes" TEXT
, latest_day TEXT, touched_recorded INTEGER, digest TEXT, prev_hash TEXT, hash TEXT);
INSERT INTO "loads" VALUES(1,'2026-12-06T02:13:04+00:00','root','/tmp/oldx/oct','{"discharges.csv": "1ef87bd56aa8cb4b3f5d673d94d415686702a35c309afbd377b47c99a906f44b", "episodes.csv": "72b3ee8ea995168ceb94e5656a7a162aa3ba654847ff43834668420925b868a3", "events.csv": "f7e17285f47c174ff75ba475dfc2fd1c67314283c88a9548ec1aaaaa4c4f0d0a", "block_costs.csv": "f1013a979979b629f10f0d29d59764afeb9cb4c1420d383a041a14e6a879090f"}','{"discharges": 2, "episodes": 2, "events": 0, "block_costs": 1}','{"discharges": {"added": 2, "changed": 0, "removed": 0, "unchanged": 0}, "episodes": {"added": 2, "changed": 0, "removed": 0, "unchanged": 0}, "events": {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}, "block_costs": {"added": 1, "changed": 0, "removed": 0, "unchanged": 0}}','2020-12-31',0,'9b6602e95a1ed677c472079c69553a0f9942b3f41879bc727bdde66007955a08','0000000000000000000000000000000000000000000000000000000000000000','eb77efe76485ed96038ad8bda09a0fa88c3ac13b2938c7e80c3cad0210c1546a');
INSERT INTO "loads" VALUES(2,'2026-12-06T02:13:06+00:00','root','/tmp/oldx/nov','{"discharges.csv": "1ef87bd56aa8cb4b3f5d673d94d415686702a35c309afbd377b47c99a906f44b", "episodes.csv": "d6fd9a728de99384afb2a7cc051c24666c16b881b98011ecd8d7d23ef457fc24", "events.csv": "7025e53e3cc48be673bd60c49bb0e60d9900e8c1148df43d7349b76dd81f5498", "block_costs.csv": "f1013a979979b629f10f0d29d59764afeb9cb4c1420d383a041a14e6a879090f"}','{"discharges": 2, "episodes": 2, "events": 1, "block_costs": 1}','{"discharges": {"added": 0, "changed": 0, "removed": 0, "unchanged": 2}, "episodes": {"added": 0, "changed": 1, "removed": 0, "unchanged": 1}, "events": {"added": 1, "changed": 0, "removed": 0, "unchanged": 0}, "block_costs": {"added": 0, "changed": 0, "removed": 0, "unchanged": 1}}','2020-12-31',1,'a1bbd705d8de4137a0859d300b2a743aedd862cae3fccf2819d3b151409b48c0','eb77efe76485ed96038ad8bda09a0fa88c3ac13b2938c7e80c3cad0210c1546a','e9536ba754429bedde8929c6936fd8ec0cca201b487e7a2192fef842b973a423');
CREATE TABLE "migrations" (
   "id" INTEGER PRIMARY KEY,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "migrations" VALUES(1,'versioned data tables and load log','2026-12-06T02:13:04+00:00');
INSERT INTO "migrations" VALUES(2,'claims ledger: submissions and submission lines','2026-12-06T02:13:04+00:00');
INSERT INTO "migrations" VALUES(3,'indexes for periods, patients and NHS numbers; source rows; latest date per load','2026-12-06T02:13:04+00:00');
INSERT INTO "migrations" VALUES(4,'integrity: loads chained with data digests; triggers on the loads log and the data history; submissions tied to their load, findings and rules','2026-12-06T02:13:04+00:00');
INSERT INTO "migrations" VALUES(5,'views for analysts and the allocation table of every month','2026-12-06T02:13:04+00:00');
CREATE TABLE "receipts" (
   "receipt_id" TEXT,
   "claim_month" TEXT,
   "scheme" TEXT,
   "amount_pence" INTEGER,
   "received_date" TEXT,
   "_extra" TEXT,
   "_load" INTEGER,
   "_until_load" INTEGER, _row INTEGER,
   PRIMARY KEY ("receipt_id", "_load")
);
CREATE TABLE submission_findings (submission_id INTEGER NOT NULL REFERENCES submissions(id), n INTEGER NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL, paragraph TEXT NOT NULL, subject TEXT NOT NULL, ids TEXT NOT NULL, amount_pence INTEGER NOT NULL, message TEXT NOT NULL, acknowledged TEXT NOT NULL, PRIMARY KEY (submission_id, n));
INSERT INTO "submission_findings" VALUES(1,1,'HDS-BLOCK-BEDS','warning','5.5.2','B1','{"block": ["B1"], "episode": ["E1"], "discharge": ["D1"], "patient": ["P1"]}',270000,'Block cost B1 of OCC covers 2020-10-01 to 2020-10-31 (£3,100.00 this month), and 1 bed episode(s) of OCC claim £2,700.00 individually on those days: confirm those people were not in the block-booked beds.','');
INSERT INTO "submission_findings" VALUES(1,2,'HDS-NO-NHS','warning','3.5','D1','{"patient": ["P1"], "discharge": ["D1"], "episode": ["E1"]}',270000,'Discharge D1 of patient P1 has no NHS number, yet 1 line(s) claim £2,700.00 for it in 2020-10: add the NHS number so the claim can be traced to the person.','');
INSERT INTO "submission_findings" VALUES(1,3,'HDS-NO-NHS','warning','3.5','D2','{"patient": ["P2"], "discharge": ["D2"], "episode": ["E2"]}',155000,'Discharge D2 of patient P2 has no NHS number, yet 1 line(s) claim £1,550.00 for it in 2020-10: add the NHS number so the claim can be traced to the person.','');
INSERT INTO "submission_findings" VALUES(2,1,'HDS-NO-NHS','warning','3.5','D2','{"patient": ["P2"], "discharge": ["D2"], "episode": ["E2"]}',66000,'Discharge D2 of patient P2 has no NHS number, yet 1 line(s) claim £660.00 for it in 2020-11: add the NHS number so the claim can be traced to the person.','');
CREATE TABLE "submission_lines" (
   "submission_id" INTEGER REFERENCES "submissions"("id"),
   "line_no" INTEGER,
   "claim_month" TEXT,
   "kind" TEXT,
   "patient_id" TEXT,
   "discharge_id" TEXT,
   "episode_id" TEXT,
   "block_id" TEXT,
   "description" TEXT,
   "scheme" TEXT,
   "service" TEXT,
   "organisation" TEXT,
   "days" INTEGER,
   "amount_pence" INTEGER,
   "reason" TEXT,
   "current" INTEGER,
   "line_hash" TEXT,
   PRIMARY KEY ("submission_id", "line_no")
);
INSERT INTO "submission_lines" VALUES(1,1,'2020-10','individual','P1','D1','E1','','','HDS2','interim_bed','OCC',27,270000,'',1,'681a6860b4465d5c9644be03f0616fb45351c6434721e0f077f37316b371381a');
INSERT INTO "submission_lines" VALUES(1,2,'2020-10','individual','P2','D2','E2','','','HDS2','home_care','OCCG',31,155000,'',1,'1f7732752aab6f49aa198a9e8d17b69d9f13330dbbdb8da8735b8d9c09dbb945');
INSERT INTO "submission_lines" VALUES(1,3,'2020-10','block','','','','B1','Unoccupied beds','HDS2','block','OCC',31,310000,'',1,'ee4ee5e9352459c72350f491e20cdc545f5a1ec31b8a0f03407a9e46e5f93600');
INSERT INTO "submission_lines" VALUES(2,1,'2020-11','individual','P2','D2','E2','','','HDS2','home_care','OCCG',11,66000,'',1,'ceaf1f544c29fb2787e37d51b4293b92ba16c69482a223426da8ff440d4d72cd');
INSERT INTO "submission_lines" VALUES(2,2,'2020-11','block','','','','B1','Unoccupied beds','HDS2','block','OCC',30,300000,'',1,'438a5c59ec75a651cd85e693bfd62b9f08dd68c874da51db46b8d8425f99c251');
INSERT INTO "submission_lines" VALUES(2,3,'2020-10','individual','P1','D1','E1','','','HDS2','interim_bed','OCC',-12,-120000,'care act assessment dated 2020-10-20 loaded in load 2',0,'7bb5e7c8196a2d21350ce21f89475ed9acd22f05f5e19d67654118047f098239');
INSERT INTO "submission_lines" VALUES(2,4,'2020-10','individual','P2','D2','E2','','','HDS2','home_care','OCCG',0,31000,'episode E2: weekly_cost 350.00 -> 420.00 in load 2',0,'ed2c75e47b9fe92e5ebadeae900e1aa3950c8e6b5e5a917965a280dd3b1c213d');
CREATE TABLE submission_rules (submission_id INTEGER NOT NULL REFERENCES submissions(id), path TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (submission_id, path));
INSERT INTO "submission_rules" VALUES(1,'parameters/hds1.yaml','# Hospital Discharge Scheme 1: free care from discharge until the person is
# assessed, with a fixed last free day instead of a length.
scheme: HDS1
description: Hospital Discharge Scheme 1 (discharges 19 March to 31 August 2020)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2020-03-19:
      value: 2020-03-19
      reference: COVID-19 Hospital Discharge Service Requirements of 19 March 2020, which started the scheme

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2020-03-19:
      value: 2020-08-31
      reference: NHSE/I discharge guidance of 21 August 2020, under which Scheme 2 takes over from 1 September 2020

free_period_ends_on:
  description: Last day of free care whatever the discharge date; from the next day unassessed care falls to the partners
  unit: date
  values:
    2020-03-19:
      value: 2021-03-31
      reference: NHSE/I discharge guidance of 21 August 2020, which paid for Scheme 1 people still awaiting assessment until the end of March 2021
');
INSERT INTO "submission_rules" VALUES(1,'parameters/hds2.yaml','# Hospital Discharge Scheme 2: the scheme the Section 75 variation of
# 24 November 2020 was written for.
scheme: HDS2
description: Hospital Discharge Scheme 2 (discharges 1 September 2020 to 31 March 2021)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2020-09-01:
      value: 2020-09-01
      reference: Variation paragraph 1.3, following the NHSE/I discharge guidance of 21 August 2020

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2020-09-01:
      value: 2021-03-31
      reference: Variation paragraph 7.1, the end date of Scheme 2

free_period_days:
  description: Longest free period in days; the discharge day is day 1, so with N days the partners pay from day N + 1
  unit: day
  values:
    2020-09-01:
      value: 42
      reference: Variation paragraphs 1.5 and 4.1, at most six weeks of free care after discharge
');
INSERT INTO "submission_rules" VALUES(1,'parameters/hds3.yaml','# Hospital Discharge Scheme 3: six weeks of free care, April to June 2021.
scheme: HDS3
description: Hospital Discharge Scheme 3 (discharges 1 April to 30 June 2021)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2021-04-01:
      value: 2021-04-01
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, Scheme 3 from April 2021

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2021-04-01:
      value: 2021-06-30
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, Scheme 3 until the end of June 2021

free_period_days:
  description: Longest free period in days; the discharge day is day 1, so with N days the partners pay from day N + 1
  unit: day
  values:
    2021-04-01:
      value: 42
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, at most six weeks of free care
');
INSERT INTO "submission_rules" VALUES(1,'parameters/hds4.yaml','# Hospital Discharge Scheme 4: four weeks of free care, July 2021 to March 2022.
scheme: HDS4
description: Hospital Discharge Scheme 4 (discharges 1 July 2021 to 31 March 2022)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2021-07-01:
      value: 2021-07-01
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, Scheme 4 from July 2021

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2021-07-01:
      value: 2022-03-31
      reference: NHSE/I hospital discharge guidance of October 2021, which extended Scheme 4 to the end of March 2022

free_period_days:
  description: Longest free period in days; the discharge day is day 1, so with N days the partners pay from day N + 1
  unit: day
  values:
    2021-07-01:
      value: 28
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, at most four weeks of free care
');
INSERT INTO "submission_rules" VALUES(1,'renamed.yaml','# Rule ids that changed, old id -> new id.
#
# The rules that apply once the free period is over were named "week7-..."
# when only six-week schemes were in view. Scheme 4''s free period is four
# weeks and Scheme 1''s ends on a fixed date, so they now say what is true of
# every scheme: they decide the days after the free period. Allocations,
# submissions and traces made with an old id are explained by the rule now
# under the new id (RuleLibrary.rule and RuleLibrary.rules_of follow this
# mapping; so does rules.coverage).
description: Rule ids renamed when the rules were made true for every scheme''s free period
renamed:
  week7-chc-self-funder: after-free-period-chc-self-funder
  week7-chc-pending: after-free-period-chc-pending
  week7-chc-eligible: after-free-period-chc-eligible
  week7-chc-not-eligible: after-free-period-chc-not-eligible
  week7-chc-then-assessed: after-free-period-chc-then-assessed
  week7-self-funder: after-free-period-self-funder
  week7-chc-funded: after-free-period-chc-funded
  week7-assessment-pending: after-free-period-assessment-pending
  week7-assessed: after-free-period-assessed
');
INSERT INTO "submission_rules" VALUES(1,'rulebooks/common.rules','# The decisions: who pays for each day of care after a discharge.
#
# Every scheme uses these rules; a scheme''s own window and free period are
# dated parameters (parameters/<scheme>.yaml), so nothing here depends on
# which scheme a discharge falls in. This is also the rulebook for a
# discharge outside every scheme window.
#
# How to read it: a care episode is cut into segments over which nothing
# changes, and the first rule whose condition holds decides a segment. The
# comment directly above each rule says, in plain words, what the Section 75
# deed of variation of 24 November 2020 requires; "cites" gives its
# paragraphs. The conditions use facts already worked out from the dates
# (`hds rules facts` lists them), so no rule compares dates. "The free
# period" is the scheme''s: day 1 is the discharge day, and it lasts as long
# as the scheme''s parameters say (42 days for Schemes 2 and 3, 28 for
# Scheme 4, until a fixed date for Scheme 1).

scheme common
title Rules common to every scheme (and discharges outside all schemes)


# ---- Days nobody should pay for -------------------------------------------

# 1.5: the scheme pays for care that follows a discharge. Care dated before
# the discharge it is recorded against cannot be that care, so no one is
# charged for it and the record is a data-quality finding.
rule before-discharge
  cites 1.5
  when before_discharge
  funder excluded
  reason The care is dated before the discharge it follows, so no scheme pays for it; the data should be checked.

# 4.5: care up to a death is met by the scheme; the day of death is still a
# day of care. Days after it cannot be, so they go to no one and the record
# is a data-quality finding.
rule after-death
  cites 4.5
  when after_death
  funder excluded
  reason The person had died before this day; nobody should pay for it and the data should be checked.


# ---- Care the scheme never funds ------------------------------------------

# 1.5: only discharges that fall within a scheme''s dates are funded. A
# discharge outside every scheme window stays on the usual funding.
rule outside-schemes
  cites 1.5
  when outside_schemes
  funder bau
  reason The discharge date is outside every scheme window, so normal funding routes apply.

# 1.6: scheme money pays only for activity beyond what the CCG and council
# commission in the normal course; a business-as-usual service stays on its
# usual funding.
rule bau-commissioned
  cites 1.6
  when bau_commissioned
  funder bau
  reason The service is activity normally commissioned anyway; the scheme only funds care over and above it.

# 4.11: when someone must isolate after discharge and their care home cannot
# do it safely, the council provides other accommodation and care for the
# isolation, and the scheme pays for it during the free period. This holds
# even for a returning resident and even after an assessment, so it comes
# before the restart rule and the rules that end free care.
rule isolation
  cites 4.11
  when isolation_service and within_free_period
  funder hds
  reason COVID-19 isolation care during the free period is funded by the scheme.

# 4.8: a person who goes back to the package of care they had before the
# admission returns to its usual funding; the scheme pays no part of it.
rule restart
  cites 4.8
  when restart
  funder bau
  reason The person went back to an existing package of care, which stays on its usual funding; no part is funded by the scheme.


# ---- The free period -----------------------------------------------------

# 4.9: when social work and other colleagues keep someone from being
# admitted from A&E, the emergency care put in place is free for the free
# period, counted from the attendance.
rule admission-avoidance
  cites 4.9
  when free_care_continues and admission_avoidance
  funder hds
  reason Emergency care that avoided a hospital admission is free, from the A&E attendance, for the free period.

# 1.5 and 4.4: new care after a discharge is free while the person''s needs
# are assessed, from the discharge day until the free period runs out or
# something ends it sooner: a Care Act assessment (4.3, 4.6), a finding of
# CHC eligibility (4.7) or a self-funder''s agreed charge date (4.10).
rule free-period
  cites 1.5, 4.4
  when free_care_continues
  funder hds
  reason New care after discharge is free from the discharge day until the free period ends or an assessment, CHC eligibility or an agreed charge date ends it.


# ---- Free care ended early ------------------------------------------------

# 4.3 and 4.6: once a Care Act assessment is done (in hospital, or after a
# spell of reablement), the council funds the care as usual and the person
# is charged for it from the assessment day.
rule assessed
  cites 4.3, 4.6
  when ended_early_by_assessment
  funder bau
  reason A completed Care Act assessment ended the free care early; the person is chargeable through normal routes from the assessment day.

# 4.7: for someone checklisted for a full CHC assessment, the scheme meets
# the new care within the free period; a finding of CHC eligibility ends the
# free care and NHS CHC funding applies from the decision.
rule chc-eligible-early
  cites 4.7
  when ended_early_by_chc
  funder bau
  reason The person was found eligible for NHS CHC before the free period ended; CHC funding applies from the decision.

# 4.10: a self-funder placed in a funded bed agrees a date from which they
# pay for their care; the scheme pays up to that date and no further.
rule self-funder-early
  cites 4.10
  when ended_early_by_charge_date
  funder bau
  reason The self-funder pays from the charge date agreed with them.


# ---- After the free period: a CHC assessment was still under way ----------
# 4.13 splits the cost after the free period by how far the assessments had
# got when it ended. These rules apply when the person had been checklisted
# for a full CHC assessment before the free period ended and the CHC/FNC
# decision had not been made by then.

# 4.10 with 4.13: once the agreed charge date has come, a self-funder pays,
# whatever stage the assessments have reached.
rule after-free-period-chc-self-funder
  cites 4.10, 4.13
  when chc_pending_at_free_period_end and self_funder_charging
  funder bau
  reason The self-funder pays from the charge date agreed with them.

# 4.13, first bullet: while the NHS CHC or FNC assessment is still to be
# done, the CCG carries the cost, from the first day after the free period
# until the assessment is done.
rule after-free-period-chc-pending
  cites 4.13
  when chc_pending_at_free_period_end and chc_decision_pending
  funder ccg
  reason The CHC/FNC assessment was still pending when the free period ended, so the CCG pays from the first day after the free period until it is done.

# 4.13: when the CHC decision finds the person eligible, NHS CHC funding,
# a normal route, takes over from the decision.
rule after-free-period-chc-eligible
  cites 4.13
  when chc_pending_at_free_period_end and chc_eligible
  funder bau
  reason The CHC decision found the person eligible, so NHS CHC funding applies from the decision.

# 4.13, second bullet: when the person is found not eligible for CHC, the
# council pays, as it would in the usual way, until the Care Act assessment
# is done.
rule after-free-period-chc-not-eligible
  cites 4.13
  when chc_pending_at_free_period_end and care_act_assessment_pending
  funder council
  reason Not eligible for CHC and the Care Act assessment is not yet done, so the council pays until it is.

# 4.13, second bullet: with the CHC decision made and the Care Act
# assessment done, the usual funding routes apply.
rule after-free-period-chc-then-assessed
  cites 4.13
  when chc_pending_at_free_period_end
  funder bau
  reason The CHC decision and the Care Act assessment are both done, so normal funding routes apply.


# ---- After the free period: the Care Act assessment was still due ---------
# Every other case at the end of the free period: no CHC assessment was
# under way, so the question is where the Care Act assessment stood.

# 4.10 with 4.13: once the agreed charge date has come, a self-funder pays.
rule after-free-period-self-funder
  cites 4.10, 4.13
  when self_funder_charging
  funder bau
  reason The self-funder pays from the charge date agreed with them.

# 4.13 (with 4.7): a later finding of CHC eligibility puts the person on NHS
# CHC funding from the decision.
rule after-free-period-chc-funded
  cites 4.13
  when chc_funding_started
  funder bau
  reason The person was found eligible for NHS CHC, so CHC funding applies from the decision.

# 4.13, third bullet: while the Care Act assessment is still to be done,
# the council carries the cost, from the first day after the free period
# until the assessment is completed.
rule after-free-period-assessment-pending
  cites 4.13
  when care_act_assessment_pending
  funder council
  reason The Care Act assessment was still pending when the free period ended, so the council pays from the first day after the free period until it is completed.

# 4.13, third bullet: once the Care Act assessment is complete, the usual
# funding routes apply.
rule after-free-period-assessed
  cites 4.13
  when always
  funder bau
  reason The Care Act assessment is complete, so normal funding routes apply.
');
INSERT INTO "submission_rules" VALUES(2,'parameters/hds1.yaml','# Hospital Discharge Scheme 1: free care from discharge until the person is
# assessed, with a fixed last free day instead of a length.
scheme: HDS1
description: Hospital Discharge Scheme 1 (discharges 19 March to 31 August 2020)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2020-03-19:
      value: 2020-03-19
      reference: COVID-19 Hospital Discharge Service Requirements of 19 March 2020, which started the scheme

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2020-03-19:
      value: 2020-08-31
      reference: NHSE/I discharge guidance of 21 August 2020, under which Scheme 2 takes over from 1 September 2020

free_period_ends_on:
  description: Last day of free care whatever the discharge date; from the next day unassessed care falls to the partners
  unit: date
  values:
    2020-03-19:
      value: 2021-03-31
      reference: NHSE/I discharge guidance of 21 August 2020, which paid for Scheme 1 people still awaiting assessment until the end of March 2021
');
INSERT INTO "submission_rules" VALUES(2,'parameters/hds2.yaml','# Hospital Discharge Scheme 2: the scheme the Section 75 variation of
# 24 November 2020 was written for.
scheme: HDS2
description: Hospital Discharge Scheme 2 (discharges 1 September 2020 to 31 March 2021)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2020-09-01:
      value: 2020-09-01
      reference: Variation paragraph 1.3, following the NHSE/I discharge guidance of 21 August 2020

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2020-09-01:
      value: 2021-03-31
      reference: Variation paragraph 7.1, the end date of Scheme 2

free_period_days:
  description: Longest free period in days; the discharge day is day 1, so with N days the partners pay from day N + 1
  unit: day
  values:
    2020-09-01:
      value: 42
      reference: Variation paragraphs 1.5 and 4.1, at most six weeks of free care after discharge
');
INSERT INTO "submission_rules" VALUES(2,'parameters/hds3.yaml','# Hospital Discharge Scheme 3: six weeks of free care, April to June 2021.
scheme: HDS3
description: Hospital Discharge Scheme 3 (discharges 1 April to 30 June 2021)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2021-04-01:
      value: 2021-04-01
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, Scheme 3 from April 2021

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2021-04-01:
      value: 2021-06-30
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, Scheme 3 until the end of June 2021

free_period_days:
  description: Longest free period in days; the discharge day is day 1, so with N days the partners pay from day N + 1
  unit: day
  values:
    2021-04-01:
      value: 42
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, at most six weeks of free care
');
INSERT INTO "submission_rules" VALUES(2,'parameters/hds4.yaml','# Hospital Discharge Scheme 4: four weeks of free care, July 2021 to March 2022.
scheme: HDS4
description: Hospital Discharge Scheme 4 (discharges 1 July 2021 to 31 March 2022)

first_discharge:
  description: First discharge date the scheme covers (for an avoided admission, the A&E attendance date)
  unit: date
  values:
    2021-07-01:
      value: 2021-07-01
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, Scheme 4 from July 2021

last_discharge:
  description: Last discharge date the scheme covers
  unit: date
  values:
    2021-07-01:
      value: 2022-03-31
      reference: NHSE/I hospital discharge guidance of October 2021, which extended Scheme 4 to the end of March 2022

free_period_days:
  description: Longest free period in days; the discharge day is day 1, so with N days the partners pay from day N + 1
  unit: day
  values:
    2021-07-01:
      value: 28
      reference: NHSE/I hospital discharge funding flows guidance of May 2021, at most four weeks of free care
');
INSERT INTO "submission_rules" VALUES(2,'renamed.yaml','# Rule ids that changed, old id -> new id.
#
# The rules that apply once the free period is over were named "week7-..."
# when only six-week schemes were in view. Scheme 4''s free period is four
# weeks and Scheme 1''s ends on a fixed date, so they now say what is true of
# every scheme: they decide the days after the free period. Allocations,
# submissions and traces made with an old id are explained by the rule now
# under the new id (RuleLibrary.rule and RuleLibrary.rules_of follow this
# mapping; so does rules.coverage).
description: Rule ids renamed when the rules were made true for every scheme''s free period
renamed:
  week7-chc-self-funder: after-free-period-chc-self-funder
  week7-chc-pending: after-free-period-chc-pending
  week7-chc-eligible: after-free-period-chc-eligible
  week7-chc-not-eligible: after-free-period-chc-not-eligible
  week7-chc-then-assessed: after-free-period-chc-then-assessed
  week7-self-funder: after-free-period-self-funder
  week7-chc-funded: after-free-period-chc-funded
  week7-assessment-pending: after-free-period-assessment-pending
  week7-assessed: after-free-period-assessed
');
INSERT INTO "submission_rules" VALUES(2,'rulebooks/common.rules','# The decisions: who pays for each day of care after a discharge.
#
# Every scheme uses these rules; a scheme''s own window and free period are
# dated parameters (parameters/<scheme>.yaml), so nothing here depends on
# which scheme a discharge falls in. This is also the rulebook for a
# discharge outside every scheme window.
#
# How to read it: a care episode is cut into segments over which nothing
# changes, and the first rule whose condition holds decides a segment. The
# comment directly above each rule says, in plain words, what the Section 75
# deed of variation of 24 November 2020 requires; "cites" gives its
# paragraphs. The conditions use facts already worked out from the dates
# (`hds rules facts` lists them), so no rule compares dates. "The free
# period" is the scheme''s: day 1 is the discharge day, and it lasts as long
# as the scheme''s parameters say (42 days for Schemes 2 and 3, 28 for
# Scheme 4, until a fixed date for Scheme 1).

scheme common
title Rules common to every scheme (and discharges outside all schemes)


# ---- Days nobody should pay for -------------------------------------------

# 1.5: the scheme pays for care that follows a discharge. Care dated before
# the discharge it is recorded against cannot be that care, so no one is
# charged for it and the record is a data-quality finding.
rule before-discharge
  cites 1.5
  when before_discharge
  funder excluded
  reason The care is dated before the discharge it follows, so no scheme pays for it; the data should be checked.

# 4.5: care up to a death is met by the scheme; the day of death is still a
# day of care. Days after it cannot be, so they go to no one and the record
# is a data-quality finding.
rule after-death
  cites 4.5
  when after_death
  funder excluded
  reason The person had died before this day; nobody should pay for it and the data should be checked.


# ---- Care the scheme never funds ------------------------------------------

# 1.5: only discharges that fall within a scheme''s dates are funded. A
# discharge outside every scheme window stays on the usual funding.
rule outside-schemes
  cites 1.5
  when outside_schemes
  funder bau
  reason The discharge date is outside every scheme window, so normal funding routes apply.

# 1.6: scheme money pays only for activity beyond what the CCG and council
# commission in the normal course; a business-as-usual service stays on its
# usual funding.
rule bau-commissioned
  cites 1.6
  when bau_commissioned
  funder bau
  reason The service is activity normally commissioned anyway; the scheme only funds care over and above it.

# 4.11: when someone must isolate after discharge and their care home cannot
# do it safely, the council provides other accommodation and care for the
# isolation, and the scheme pays for it during the free period. This holds
# even for a returning resident and even after an assessment, so it comes
# before the restart rule and the rules that end free care.
rule isolation
  cites 4.11
  when isolation_service and within_free_period
  funder hds
  reason COVID-19 isolation care during the free period is funded by the scheme.

# 4.8: a person who goes back to the package of care they had before the
# admission returns to its usual funding; the scheme pays no part of it.
rule restart
  cites 4.8
  when restart
  funder bau
  reason The person went back to an existing package of care, which stays on its usual funding; no part is funded by the scheme.


# ---- The free period -----------------------------------------------------

# 4.9: when social work and other colleagues keep someone from being
# admitted from A&E, the emergency care put in place is free for the free
# period, counted from the attendance.
rule admission-avoidance
  cites 4.9
  when free_care_continues and admission_avoidance
  funder hds
  reason Emergency care that avoided a hospital admission is free, from the A&E attendance, for the free period.

# 1.5 and 4.4: new care after a discharge is free while the person''s needs
# are assessed, from the discharge day until the free period runs out or
# something ends it sooner: a Care Act assessment (4.3, 4.6), a finding of
# CHC eligibility (4.7) or a self-funder''s agreed charge date (4.10).
rule free-period
  cites 1.5, 4.4
  when free_care_continues
  funder hds
  reason New care after discharge is free from the discharge day until the free period ends or an assessment, CHC eligibility or an agreed charge date ends it.


# ---- Free care ended early ------------------------------------------------

# 4.3 and 4.6: once a Care Act assessment is done (in hospital, or after a
# spell of reablement), the council funds the care as usual and the person
# is charged for it from the assessment day.
rule assessed
  cites 4.3, 4.6
  when ended_early_by_assessment
  funder bau
  reason A completed Care Act assessment ended the free care early; the person is chargeable through normal routes from the assessment day.

# 4.7: for someone checklisted for a full CHC assessment, the scheme meets
# the new care within the free period; a finding of CHC eligibility ends the
# free care and NHS CHC funding applies from the decision.
rule chc-eligible-early
  cites 4.7
  when ended_early_by_chc
  funder bau
  reason The person was found eligible for NHS CHC before the free period ended; CHC funding applies from the decision.

# 4.10: a self-funder placed in a funded bed agrees a date from which they
# pay for their care; the scheme pays up to that date and no further.
rule self-funder-early
  cites 4.10
  when ended_early_by_charge_date
  funder bau
  reason The self-funder pays from the charge date agreed with them.


# ---- After the free period: a CHC assessment was still under way ----------
# 4.13 splits the cost after the free period by how far the assessments had
# got when it ended. These rules apply when the person had been checklisted
# for a full CHC assessment before the free period ended and the CHC/FNC
# decision had not been made by then.

# 4.10 with 4.13: once the agreed charge date has come, a self-funder pays,
# whatever stage the assessments have reached.
rule after-free-period-chc-self-funder
  cites 4.10, 4.13
  when chc_pending_at_free_period_end and self_funder_charging
  funder bau
  reason The self-funder pays from the charge date agreed with them.

# 4.13, first bullet: while the NHS CHC or FNC assessment is still to be
# done, the CCG carries the cost, from the first day after the free period
# until the assessment is done.
rule after-free-period-chc-pending
  cites 4.13
  when chc_pending_at_free_period_end and chc_decision_pending
  funder ccg
  reason The CHC/FNC assessment was still pending when the free period ended, so the CCG pays from the first day after the free period until it is done.

# 4.13: when the CHC decision finds the person eligible, NHS CHC funding,
# a normal route, takes over from the decision.
rule after-free-period-chc-eligible
  cites 4.13
  when chc_pending_at_free_period_end and chc_eligible
  funder bau
  reason The CHC decision found the person eligible, so NHS CHC funding applies from the decision.

# 4.13, second bullet: when the person is found not eligible for CHC, the
# council pays, as it would in the usual way, until the Care Act assessment
# is done.
rule after-free-period-chc-not-eligible
  cites 4.13
  when chc_pending_at_free_period_end and care_act_assessment_pending
  funder council
  reason Not eligible for CHC and the Care Act assessment is not yet done, so the council pays until it is.

# 4.13, second bullet: with the CHC decision made and the Care Act
# assessment done, the usual funding routes apply.
rule after-free-period-chc-then-assessed
  cites 4.13
  when chc_pending_at_free_period_end
  funder bau
  reason The CHC decision and the Care Act assessment are both done, so normal funding routes apply.


# ---- After the free period: the Care Act assessment was still due ---------
# Every other case at the end of the free period: no CHC assessment was
# under way, so the question is where the Care Act assessment stood.

# 4.10 with 4.13: once the agreed charge date has come, a self-funder pays.
rule after-free-period-self-funder
  cites 4.10, 4.13
  when self_funder_charging
  funder bau
  reason The self-funder pays from the charge date agreed with them.

# 4.13 (with 4.7): a later finding of CHC eligibility puts the person on NHS
# CHC funding from the decision.
rule after-free-period-chc-funded
  cites 4.13
  when chc_funding_started
  funder bau
  reason The person was found eligible for NHS CHC, so CHC funding applies from the decision.

# 4.13, third bullet: while the Care Act assessment is still to be done,
# the council carries the cost, from the first day after the free period
# until the assessment is completed.
rule after-free-period-assessment-pending
  cites 4.13
  when care_act_assessment_pending
  funder council
  reason The Care Act assessment was still pending when the free period ended, so the council pays from the first day after the free period until it is completed.

# 4.13, third bullet: once the Care Act assessment is complete, the usual
# funding routes apply.
rule after-free-period-assessed
  cites 4.13
  when always
  funder bau
  reason The Care Act assessment is complete, so normal funding routes apply.
');
CREATE TABLE "submissions" (
   "id" INTEGER PRIMARY KEY,
   "month" TEXT,
   "submitted_at" TEXT,
   "submitted_by" TEXT,
   "load_id" INTEGER,
   "rulebook_version" TEXT,
   "current_pence" INTEGER,
   "adjustments_pence" INTEGER,
   "total_pence" INTEGER,
   "line_count" INTEGER,
   "prev_hash" TEXT,
   "hash" TEXT
, load_hash TEXT, findings_hash TEXT, rules_hash TEXT, hash_version INTEGER);
INSERT INTO "submissions" VALUES(1,'2020-10','2026-12-06T02:13:05+00:00','root',1,'c823eb0337b3bb848f5a12e1fca6b54d623f87d55623582a28b2ff3b00d9ad69',735000,0,735000,3,'0000000000000000000000000000000000000000000000000000000000000000','4d5234e7f20274e8e6a633ba7947c00eb02b4838eae0a429f06701a0b8c62adf','eb77efe76485ed96038ad8bda09a0fa88c3ac13b2938c7e80c3cad0210c1546a','e9c5f837f041e9b647fd2d4e723127f6b05cbfd71174177c06c5efecdecb3cbf','01b93de471f187bc2c31c3bd7867dad167461b188ed9535bed5dd7550bc514aa',2);
INSERT INTO "submissions" VALUES(2,'2020-11','2026-12-06T02:13:07+00:00','root',2,'c823eb0337b3bb848f5a12e1fca6b54d623f87d55623582a28b2ff3b00d9ad69',366000,-89000,277000,4,'4d5234e7f20274e8e6a633ba7947c00eb02b4838eae0a429f06701a0b8c62adf','cf3e57d177c0d9d72d935555f10cb90a725a50cb2fbf16ec9539fb0a5d8c0715','e9536ba754429bedde8929c6936fd8ec0cca201b487e7a2192fef842b973a423','31446776e658fef93e8fb593170df8d9350c151a310bb86b560e345dcfddee34','d5fa271f872956a3ba7cc5432f34189e99bcc7f2e9d0bc631092a13d820cd269',2);
CREATE UNIQUE INDEX "idx_submissions_month"
    ON "submissions" ("month");
CREATE INDEX "idx_submission_lines_patient_id"
    ON "submission_lines" ("patient_id");
CREATE INDEX "idx_submission_lines_claim_month"
    ON "submission_lines" ("claim_month");
CREATE TRIGGER submissions_no_update BEFORE UPDATE ON submissions BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER submissions_no_delete BEFORE DELETE ON submissions BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER submission_lines_no_update BEFORE UPDATE ON submission_lines BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER submission_lines_no_delete BEFORE DELETE ON submission_lines BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE INDEX submission_lines_key ON submission_lines (claim_month, kind, episode_id, block_id);
CREATE INDEX submission_lines_discharge ON submission_lines (discharge_id);
CREATE TRIGGER submission_findings_no_update BEFORE UPDATE ON submission_findings BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER submission_findings_no_delete BEFORE DELETE ON submission_findings BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER submission_rules_no_update BEFORE UPDATE ON submission_rules BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER submission_rules_no_delete BEFORE DELETE ON submission_rules BEGIN SELECT RAISE(ABORT, 'submitted claims cannot be changed: correct a past month through an adjustment in the next claim'); END;
CREATE TRIGGER loads_no_update BEFORE UPDATE ON loads BEGIN SELECT RAISE(ABORT, 'the loads log cannot be changed'); END;
CREATE TRIGGER loads_no_delete BEFORE DELETE ON loads BEGIN SELECT RAISE(ABORT, 'the loads log cannot be changed'); END;
CREATE TRIGGER discharges_history_update BEFORE UPDATE ON [discharges] WHEN OLD._until_load IS NOT NULL OR NEW._until_load IS NULL OR NEW._until_load <= OLD._load OR NEW.[discharge_id] IS NOT OLD.[discharge_id] OR NEW.[patient_id] IS NOT OLD.[patient_id] OR NEW.[discharge_date] IS NOT OLD.[discharge_date] OR NEW.[kind] IS NOT OLD.[kind] OR NEW.[nhs_number] IS NOT OLD.[nhs_number] OR NEW.[_extra] IS NOT OLD.[_extra] OR NEW.[_row] IS NOT OLD.[_row] OR NEW.[_load] IS NOT OLD.[_load] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER discharges_history_delete BEFORE DELETE ON [discharges] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER episodes_history_update BEFORE UPDATE ON [episodes] WHEN OLD._until_load IS NOT NULL OR NEW._until_load IS NULL OR NEW._until_load <= OLD._load OR NEW.[episode_id] IS NOT OLD.[episode_id] OR NEW.[discharge_id] IS NOT OLD.[discharge_id] OR NEW.[service] IS NOT OLD.[service] OR NEW.[start_date] IS NOT OLD.[start_date] OR NEW.[end_date] IS NOT OLD.[end_date] OR NEW.[weekly_pence] IS NOT OLD.[weekly_pence] OR NEW.[organisation] IS NOT OLD.[organisation] OR NEW.[restart] IS NOT OLD.[restart] OR NEW.[bau_commissioned] IS NOT OLD.[bau_commissioned] OR NEW.[_extra] IS NOT OLD.[_extra] OR NEW.[_row] IS NOT OLD.[_row] OR NEW.[_load] IS NOT OLD.[_load] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER episodes_history_delete BEFORE DELETE ON [episodes] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER events_history_update BEFORE UPDATE ON [events] WHEN OLD._until_load IS NOT NULL OR NEW._until_load IS NULL OR NEW._until_load <= OLD._load OR NEW.[event_id] IS NOT OLD.[event_id] OR NEW.[discharge_id] IS NOT OLD.[discharge_id] OR NEW.[event] IS NOT OLD.[event] OR NEW.[date] IS NOT OLD.[date] OR NEW.[outcome] IS NOT OLD.[outcome] OR NEW.[_extra] IS NOT OLD.[_extra] OR NEW.[_row] IS NOT OLD.[_row] OR NEW.[_load] IS NOT OLD.[_load] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER events_history_delete BEFORE DELETE ON [events] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER block_costs_history_update BEFORE UPDATE ON [block_costs] WHEN OLD._until_load IS NOT NULL OR NEW._until_load IS NULL OR NEW._until_load <= OLD._load OR NEW.[block_id] IS NOT OLD.[block_id] OR NEW.[description] IS NOT OLD.[description] OR NEW.[scheme] IS NOT OLD.[scheme] OR NEW.[organisation] IS NOT OLD.[organisation] OR NEW.[start_date] IS NOT OLD.[start_date] OR NEW.[end_date] IS NOT OLD.[end_date] OR NEW.[amount_pence] IS NOT OLD.[amount_pence] OR NEW.[_extra] IS NOT OLD.[_extra] OR NEW.[_row] IS NOT OLD.[_row] OR NEW.[_load] IS NOT OLD.[_load] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER block_costs_history_delete BEFORE DELETE ON [block_costs] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER receipts_history_update BEFORE UPDATE ON [receipts] WHEN OLD._until_load IS NOT NULL OR NEW._until_load IS NULL OR NEW._until_load <= OLD._load OR NEW.[receipt_id] IS NOT OLD.[receipt_id] OR NEW.[claim_month] IS NOT OLD.[claim_month] OR NEW.[scheme] IS NOT OLD.[scheme] OR NEW.[amount_pence] IS NOT OLD.[amount_pence] OR NEW.[received_date] IS NOT OLD.[received_date] OR NEW.[_extra] IS NOT OLD.[_extra] OR NEW.[_row] IS NOT OLD.[_row] OR NEW.[_load] IS NOT OLD.[_load] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE TRIGGER receipts_history_delete BEFORE DELETE ON [receipts] BEGIN SELECT RAISE(ABORT, 'the data history cannot be changed: load a corrected extract instead'); END;
CREATE VIEW current_discharges AS SELECT [discharge_id], [patient_id], [discharge_date], [kind], [nhs_number], _load AS loaded_in FROM [discharges] WHERE _until_load IS NULL;
CREATE VIEW current_episodes AS SELECT [episode_id], [discharge_id], [service], [start_date], [end_date], (CASE WHEN weekly_pence < 0 THEN '-' ELSE '' END || (abs(weekly_pence) / 100) || '.' || printf('%02d', abs(weekly_pence) % 100)) AS [weekly_cost], [organisation], [restart], [bau_commissioned], _load AS loaded_in FROM [episodes] WHERE _until_load IS NULL;
CREATE VIEW current_events AS SELECT [event_id], [discharge_id], [event], [date], [outcome], _load AS loaded_in FROM [events] WHERE _until_load IS NULL;
CREATE VIEW current_block_costs AS SELECT [block_id], [description], [scheme], [organisation], [start_date], [end_date], (CASE WHEN amount_pence < 0 THEN '-' ELSE '' END || (abs(amount_pence) / 100) || '.' || printf('%02d', abs(amount_pence) % 100)) AS [amount], _load AS loaded_in FROM [block_costs] WHERE _until_load IS NULL;
CREATE VIEW current_receipts AS SELECT [receipt_id], [claim_month], [scheme], (CASE WHEN amount_pence < 0 THEN '-' ELSE '' END || (abs(amount_pence) / 100) || '.' || printf('%02d', abs(amount_pence) % 100)) AS [amount], [received_date], _load AS loaded_in FROM [receipts] WHERE _until_load IS NULL;
CREATE VIEW claims_by_month AS SELECT month, id AS submission, submitted_at, submitted_by, load_id, (CASE WHEN current_pence < 0 THEN '-' ELSE '' END || (abs(current_pence) / 100) || '.' || printf('%02d', abs(current_pence) % 100)) AS current, (CASE WHEN adjustments_pence < 0 THEN '-' ELSE '' END || (abs(adjustments_pence) / 100) || '.' || printf('%02d', abs(adjustments_pence) % 100)) AS adjustments, (CASE WHEN total_pence < 0 THEN '-' ELSE '' END || (abs(total_pence) / 100) || '.' || printf('%02d', abs(total_pence) % 100)) AS total, line_count AS lines, hash FROM submissions;
CREATE VIEW receipts_by_month AS SELECT claim_month, scheme, (CASE WHEN SUM(amount_pence) < 0 THEN '-' ELSE '' END || (abs(SUM(amount_pence)) / 100) || '.' || printf('%02d', abs(SUM(amount_pence)) % 100)) AS received, COUNT(*) AS receipts FROM receipts WHERE _until_load IS NULL GROUP BY claim_month, scheme;
CREATE VIEW claim_lines AS SELECT l.submission_id AS submission, s.month AS submitted_for, l.claim_month, CASE l.current WHEN 1 THEN 'claimed' ELSE 'adjustment' END AS kind_of_line, l.kind, l.patient_id, l.discharge_id, l.episode_id, l.block_id, l.description, l.scheme, l.service, l.organisation, l.days, (CASE WHEN l.amount_pence < 0 THEN '-' ELSE '' END || (abs(l.amount_pence) / 100) || '.' || printf('%02d', abs(l.amount_pence) % 100)) AS amount, l.reason FROM submission_lines l JOIN submissions s ON s.id = l.submission_id;
CREATE INDEX allocation_rows_month ON allocation_rows (month, funder);
CREATE INDEX allocation_rows_patient ON allocation_rows (patient_id);
CREATE VIEW allocations AS SELECT patient_id, discharge_id, episode_id, block_id, scheme, month, funder, days, (CASE WHEN amount_pence < 0 THEN '-' ELSE '' END || (abs(amount_pence) / 100) || '.' || printf('%02d', abs(amount_pence) % 100)) AS amount, rule, service, organisation FROM allocation_rows;
CREATE VIEW allocations_by_month AS SELECT month, funder, scheme, SUM(days) AS days, (CASE WHEN SUM(amount_pence) < 0 THEN '-' ELSE '' END || (abs(SUM(amount_pence)) / 100) || '.' || printf('%02d', abs(SUM(amount_pence)) % 100)) AS amount FROM allocation_rows GROUP BY month, funder, scheme;
CREATE VIEW allocations_status AS SELECT d.load_id AS computed_from_load, (SELECT MAX(id) FROM loads) AS latest_load, d.computed_at, d.rows, d.rulebook_version, CASE WHEN d.load_id = (SELECT MAX(id) FROM loads) THEN 'current' ELSE 'out of date: run hds refresh' END AS state FROM derived d WHERE d.name = 'allocations';
CREATE INDEX discharges_patient ON discharges (patient_id);
CREATE INDEX discharges_nhs_number ON discharges (nhs_number);
CREATE INDEX "episodes_discharge"
    ON "episodes" ("discharge_id");
CREATE INDEX episodes_period ON episodes (_until_load, start_date, end_date);
CREATE INDEX "events_discharge"
    ON "events" ("discharge_id");
COMMIT;
