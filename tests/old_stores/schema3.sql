BEGIN TRANSACTION;
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
, latest_day TEXT, touched_recorded INTEGER);
INSERT INTO "loads" VALUES(1,'2026-12-06T02:13:00+00:00','root','/tmp/oldx/oct','{"discharges.csv": "1ef87bd56aa8cb4b3f5d673d94d415686702a35c309afbd377b47c99a906f44b", "episodes.csv": "72b3ee8ea995168ceb94e5656a7a162aa3ba654847ff43834668420925b868a3", "events.csv": "f7e17285f47c174ff75ba475dfc2fd1c67314283c88a9548ec1aaaaa4c4f0d0a", "block_costs.csv": "f1013a979979b629f10f0d29d59764afeb9cb4c1420d383a041a14e6a879090f"}','{"discharges": 2, "episodes": 2, "events": 0, "block_costs": 1}','{"discharges": {"added": 2, "changed": 0, "removed": 0, "unchanged": 0}, "episodes": {"added": 2, "changed": 0, "removed": 0, "unchanged": 0}, "events": {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}, "block_costs": {"added": 1, "changed": 0, "removed": 0, "unchanged": 0}}','2020-12-31',0);
INSERT INTO "loads" VALUES(2,'2026-12-06T02:13:02+00:00','root','/tmp/oldx/nov','{"discharges.csv": "1ef87bd56aa8cb4b3f5d673d94d415686702a35c309afbd377b47c99a906f44b", "episodes.csv": "d6fd9a728de99384afb2a7cc051c24666c16b881b98011ecd8d7d23ef457fc24", "events.csv": "7025e53e3cc48be673bd60c49bb0e60d9900e8c1148df43d7349b76dd81f5498", "block_costs.csv": "f1013a979979b629f10f0d29d59764afeb9cb4c1420d383a041a14e6a879090f"}','{"discharges": 2, "episodes": 2, "events": 1, "block_costs": 1}','{"discharges": {"added": 0, "changed": 0, "removed": 0, "unchanged": 2}, "episodes": {"added": 0, "changed": 1, "removed": 0, "unchanged": 1}, "events": {"added": 1, "changed": 0, "removed": 0, "unchanged": 0}, "block_costs": {"added": 0, "changed": 0, "removed": 0, "unchanged": 1}}','2020-12-31',1);
CREATE TABLE "migrations" (
   "id" INTEGER PRIMARY KEY,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "migrations" VALUES(1,'versioned data tables and load log','2026-12-06T02:13:00+00:00');
INSERT INTO "migrations" VALUES(2,'claims ledger: submissions and submission lines','2026-12-06T02:13:00+00:00');
INSERT INTO "migrations" VALUES(3,'indexes for periods, patients and NHS numbers; source rows; latest date per load','2026-12-06T02:13:00+00:00');
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
INSERT INTO "submission_lines" VALUES(2,1,'2020-11','individual','P2','D2','E2','','','HDS2','home_care','OCCG',11,66000,'',1,'1532d5cc4ac5e38c056c58635bb8159102f2c117ed7e289dba285ba8cb72dd80');
INSERT INTO "submission_lines" VALUES(2,2,'2020-11','block','','','','B1','Unoccupied beds','HDS2','block','OCC',30,300000,'',1,'f779c3aa9c79f30cbf1f35fd7397ef12aba3ac4e28413a76c99f448ac6334581');
INSERT INTO "submission_lines" VALUES(2,3,'2020-10','individual','P1','D1','E1','','','HDS2','interim_bed','OCC',-12,-120000,'care act assessment dated 2020-10-20 loaded in load 2',0,'44392f26c1b7e46d4fe25d776529d38bcedc4f882789fbb2da56bdaaf6ccbcfa');
INSERT INTO "submission_lines" VALUES(2,4,'2020-10','individual','P2','D2','E2','','','HDS2','home_care','OCCG',0,31000,'episode E2: weekly_cost 350.00 -> 420.00 in load 2',0,'713a7273d06be01a61001ee705fb023edf803eff571459f2a8afd9c9794e2f75');
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
);
INSERT INTO "submissions" VALUES(1,'2020-10','2026-12-06T02:13:01+00:00','root',1,'4528c63d6b12194c7ec355b7c8b2eb9ac0eb04469e342c517aa2fd1282c2ce1c',735000,0,735000,3,'0000000000000000000000000000000000000000000000000000000000000000','1308da692cb7bdd5a93e7670e0044d911e49e27bd33fcf1f5b92f0b6aade3434');
INSERT INTO "submissions" VALUES(2,'2020-11','2026-12-06T02:13:03+00:00','root',2,'4528c63d6b12194c7ec355b7c8b2eb9ac0eb04469e342c517aa2fd1282c2ce1c',366000,-89000,277000,4,'1308da692cb7bdd5a93e7670e0044d911e49e27bd33fcf1f5b92f0b6aade3434','bcd9e58fd703ac27cf467e97aa344268d0d28f6056acd37387f5af0f8e45fd56');
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
CREATE INDEX discharges_patient ON discharges (patient_id);
CREATE INDEX discharges_nhs_number ON discharges (nhs_number);
CREATE INDEX "episodes_discharge"
    ON "episodes" ("discharge_id");
CREATE INDEX episodes_period ON episodes (_until_load, start_date, end_date);
CREATE INDEX "events_discharge"
    ON "events" ("discharge_id");
COMMIT;
