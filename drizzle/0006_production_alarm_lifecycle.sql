CREATE TABLE "alarm_code" (
	"id" serial PRIMARY KEY NOT NULL,
	"list" text NOT NULL,
	"code" text NOT NULL,
	"label" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alarm_code_list_code_key" UNIQUE("list","code"),
	CONSTRAINT "alarm_code_list_check" CHECK ("alarm_code"."list" in ('cause', 'action'))
);
--> statement-breakpoint
CREATE TABLE "certification" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"operation" text NOT NULL,
	"line_id" integer,
	"machine_id" integer,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone NOT NULL,
	"evidence" text NOT NULL,
	"granted_by" integer,
	"revoked_at" timestamp with time zone,
	"revoked_by" integer,
	"revoke_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "certification_interval_check" CHECK ("certification"."valid_to" > "certification"."valid_from")
);
--> statement-breakpoint
CREATE TABLE "customer" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "deviation" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"title" text NOT NULL,
	"description" text NOT NULL,
	"lot_id" integer,
	"alarm_id" integer,
	"inspection_id" integer,
	"status" text DEFAULT 'open' NOT NULL,
	"opened_by" integer,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" integer,
	CONSTRAINT "deviation_code_unique" UNIQUE("code"),
	CONSTRAINT "deviation_status_check" CHECK ("deviation"."status" in ('open', 'closed'))
);
--> statement-breakpoint
CREATE TABLE "inspection" (
	"id" serial PRIMARY KEY NOT NULL,
	"lot_id" integer NOT NULL,
	"plan_id" integer NOT NULL,
	"run_id" integer,
	"seq" integer NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'due' NOT NULL,
	"done_at" timestamp with time zone,
	"done_by" integer,
	"value" double precision,
	"passed" boolean,
	"note" text,
	"suspect_reason" text,
	"confirmed_by" integer,
	"confirmed_at" timestamp with time zone,
	"deviation_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inspection_lot_plan_seq_key" UNIQUE("lot_id","plan_id","seq"),
	CONSTRAINT "inspection_status_check" CHECK ("inspection"."status" in ('due', 'done', 'missed', 'suspect', 'waived'))
);
--> statement-breakpoint
CREATE TABLE "inspection_plan" (
	"id" serial PRIMARY KEY NOT NULL,
	"product_id" integer NOT NULL,
	"name" text NOT NULL,
	"characteristic_id" integer,
	"trigger" text NOT NULL,
	"every_parts" integer,
	"every_minutes" integer,
	"grace_minutes" integer DEFAULT 15 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inspection_plan_trigger_check" CHECK ("inspection_plan"."trigger" in ('every-n-parts', 'every-t-minutes', 'lot-start', 'lot-end')),
	CONSTRAINT "inspection_plan_interval_check" CHECK (("inspection_plan"."trigger" <> 'every-n-parts' OR "inspection_plan"."every_parts" > 0) AND ("inspection_plan"."trigger" <> 'every-t-minutes' OR "inspection_plan"."every_minutes" > 0))
);
--> statement-breakpoint
CREATE TABLE "lot" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"product_id" integer NOT NULL,
	"process_version_id" integer,
	"line_id" integer NOT NULL,
	"planned_qty" integer NOT NULL,
	"good_qty" integer DEFAULT 0 NOT NULL,
	"scrap_qty" integer DEFAULT 0 NOT NULL,
	"rework_qty" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'planned' NOT NULL,
	"planned_start" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"review_started_at" timestamp with time zone,
	"decided_at" timestamp with time zone,
	"decided_by" integer,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lot_code_unique" UNIQUE("code"),
	CONSTRAINT "lot_status_check" CHECK ("lot"."status" in ('planned', 'running', 'completed', 'in_review', 'released', 'rejected')),
	CONSTRAINT "lot_quantities_check" CHECK ("lot"."planned_qty" > 0 AND "lot"."good_qty" >= 0 AND "lot"."scrap_qty" >= 0 AND "lot"."rework_qty" >= 0)
);
--> statement-breakpoint
CREATE TABLE "lot_material" (
	"id" serial PRIMARY KEY NOT NULL,
	"lot_id" integer NOT NULL,
	"material_lot_id" integer NOT NULL,
	"run_id" integer,
	"quantity" double precision NOT NULL,
	"consumed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lot_parameter_summary" (
	"lot_id" integer NOT NULL,
	"characteristic_id" integer NOT NULL,
	"count" integer NOT NULL,
	"min" double precision,
	"max" double precision,
	"mean" double precision,
	"sd" double precision,
	"histogram" jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lot_parameter_summary_pkey" PRIMARY KEY("lot_id","characteristic_id")
);
--> statement-breakpoint
CREATE TABLE "material" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"unit" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "material_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "material_lot" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"material_id" integer NOT NULL,
	"supplier_id" integer NOT NULL,
	"supplier_lot" text NOT NULL,
	"quantity" double precision NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"status" text DEFAULT 'quarantine' NOT NULL,
	"decided_by" integer,
	"decided_at" timestamp with time zone,
	"evidence" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "material_lot_code_unique" UNIQUE("code"),
	CONSTRAINT "material_lot_status_check" CHECK ("material_lot"."status" in ('quarantine', 'validated', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "process_spec" (
	"process_version_id" integer NOT NULL,
	"characteristic_id" integer NOT NULL,
	"lsl" double precision,
	"target" double precision,
	"usl" double precision,
	CONSTRAINT "process_spec_pkey" PRIMARY KEY("process_version_id","characteristic_id")
);
--> statement-breakpoint
CREATE TABLE "process_version" (
	"id" serial PRIMARY KEY NOT NULL,
	"product_id" integer NOT NULL,
	"version" integer NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"effective_from" timestamp with time zone,
	"description" text DEFAULT '' NOT NULL,
	"approved_by" integer,
	"approved_at" timestamp with time zone,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "process_version_product_version_key" UNIQUE("product_id","version"),
	CONSTRAINT "process_version_status_check" CHECK ("process_version"."status" in ('draft', 'effective', 'superseded'))
);
--> statement-breakpoint
CREATE TABLE "product" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"customer_id" integer NOT NULL,
	"line_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "run" (
	"id" serial PRIMARY KEY NOT NULL,
	"lot_id" integer NOT NULL,
	"machine_id" integer NOT NULL,
	"operator_id" integer NOT NULL,
	"operation" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"certification_id" integer,
	"checks" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shipment" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"lot_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"quantity" integer NOT NULL,
	"shipped_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shipment_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "supplier" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"approved" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "supplier_code_unique" UNIQUE("code")
);
--> statement-breakpoint
ALTER TABLE "alarm" DROP CONSTRAINT "alarm_state_check";--> statement-breakpoint
DROP INDEX "alarm_open_key";--> statement-breakpoint
ALTER TABLE "alarm" ALTER COLUMN "characteristic_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "machine" ADD COLUMN "operation" text;--> statement-breakpoint
ALTER TABLE "machine" ADD COLUMN "mode" text DEFAULT 'running' NOT NULL;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "kind" text DEFAULT 'spc' NOT NULL;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "machine_id" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "line_id" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "inspection_id" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "acknowledged_by" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "cause_code" text;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "action_code" text;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "ack_note" text;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "shelved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "shelved_by" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "shelved_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "shelve_reason" text;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "state_before" text;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "set_aside_reason" text;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "set_aside_by" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "cleared_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "deviation_id" integer;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "app_user" ADD COLUMN "customer_id" integer;--> statement-breakpoint
ALTER TABLE "certification" ADD CONSTRAINT "certification_user_id_app_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certification" ADD CONSTRAINT "certification_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certification" ADD CONSTRAINT "certification_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certification" ADD CONSTRAINT "certification_granted_by_app_user_id_fk" FOREIGN KEY ("granted_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certification" ADD CONSTRAINT "certification_revoked_by_app_user_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_opened_by_app_user_id_fk" FOREIGN KEY ("opened_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_closed_by_app_user_id_fk" FOREIGN KEY ("closed_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection" ADD CONSTRAINT "inspection_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection" ADD CONSTRAINT "inspection_plan_id_inspection_plan_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."inspection_plan"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection" ADD CONSTRAINT "inspection_run_id_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection" ADD CONSTRAINT "inspection_done_by_app_user_id_fk" FOREIGN KEY ("done_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection" ADD CONSTRAINT "inspection_confirmed_by_app_user_id_fk" FOREIGN KEY ("confirmed_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection" ADD CONSTRAINT "inspection_deviation_id_deviation_id_fk" FOREIGN KEY ("deviation_id") REFERENCES "public"."deviation"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection_plan" ADD CONSTRAINT "inspection_plan_product_id_product_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."product"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inspection_plan" ADD CONSTRAINT "inspection_plan_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot" ADD CONSTRAINT "lot_product_id_product_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."product"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot" ADD CONSTRAINT "lot_process_version_id_process_version_id_fk" FOREIGN KEY ("process_version_id") REFERENCES "public"."process_version"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot" ADD CONSTRAINT "lot_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot" ADD CONSTRAINT "lot_decided_by_app_user_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot_material" ADD CONSTRAINT "lot_material_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot_material" ADD CONSTRAINT "lot_material_material_lot_id_material_lot_id_fk" FOREIGN KEY ("material_lot_id") REFERENCES "public"."material_lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot_material" ADD CONSTRAINT "lot_material_run_id_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot_parameter_summary" ADD CONSTRAINT "lot_parameter_summary_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot_parameter_summary" ADD CONSTRAINT "lot_parameter_summary_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "material_lot" ADD CONSTRAINT "material_lot_material_id_material_id_fk" FOREIGN KEY ("material_id") REFERENCES "public"."material"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "material_lot" ADD CONSTRAINT "material_lot_supplier_id_supplier_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."supplier"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "material_lot" ADD CONSTRAINT "material_lot_decided_by_app_user_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "process_spec" ADD CONSTRAINT "process_spec_process_version_id_process_version_id_fk" FOREIGN KEY ("process_version_id") REFERENCES "public"."process_version"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "process_spec" ADD CONSTRAINT "process_spec_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "process_version" ADD CONSTRAINT "process_version_product_id_product_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."product"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "process_version" ADD CONSTRAINT "process_version_approved_by_app_user_id_fk" FOREIGN KEY ("approved_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "process_version" ADD CONSTRAINT "process_version_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product" ADD CONSTRAINT "product_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product" ADD CONSTRAINT "product_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run" ADD CONSTRAINT "run_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run" ADD CONSTRAINT "run_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run" ADD CONSTRAINT "run_operator_id_app_user_id_fk" FOREIGN KEY ("operator_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run" ADD CONSTRAINT "run_certification_id_certification_id_fk" FOREIGN KEY ("certification_id") REFERENCES "public"."certification"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run" ADD CONSTRAINT "run_started_by_app_user_id_fk" FOREIGN KEY ("started_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shipment" ADD CONSTRAINT "shipment_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "certification_user_idx" ON "certification" USING btree ("user_id","operation");--> statement-breakpoint
CREATE INDEX "certification_valid_to_idx" ON "certification" USING btree ("valid_to");--> statement-breakpoint
CREATE INDEX "deviation_lot_idx" ON "deviation" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "deviation_alarm_idx" ON "deviation" USING btree ("alarm_id");--> statement-breakpoint
CREATE INDEX "inspection_status_due_idx" ON "inspection" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "inspection_plan_product_idx" ON "inspection_plan" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "lot_product_idx" ON "lot" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "lot_line_started_idx" ON "lot" USING btree ("line_id","started_at");--> statement-breakpoint
CREATE INDEX "lot_status_idx" ON "lot" USING btree ("status");--> statement-breakpoint
CREATE INDEX "lot_completed_idx" ON "lot" USING btree ("completed_at");--> statement-breakpoint
CREATE INDEX "lot_material_lot_idx" ON "lot_material" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "lot_material_material_lot_idx" ON "lot_material" USING btree ("material_lot_id");--> statement-breakpoint
CREATE INDEX "material_lot_material_idx" ON "material_lot" USING btree ("material_id");--> statement-breakpoint
CREATE INDEX "material_lot_supplier_lot_idx" ON "material_lot" USING btree ("supplier_lot");--> statement-breakpoint
CREATE INDEX "product_customer_idx" ON "product" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "product_line_idx" ON "product" USING btree ("line_id");--> statement-breakpoint
CREATE INDEX "run_lot_idx" ON "run" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "run_machine_started_idx" ON "run" USING btree ("machine_id","started_at");--> statement-breakpoint
CREATE INDEX "run_operator_idx" ON "run" USING btree ("operator_id");--> statement-breakpoint
CREATE INDEX "shipment_lot_idx" ON "shipment" USING btree ("lot_id");--> statement-breakpoint
CREATE INDEX "shipment_customer_idx" ON "shipment" USING btree ("customer_id");--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_acknowledged_by_app_user_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_shelved_by_app_user_id_fk" FOREIGN KEY ("shelved_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_set_aside_by_app_user_id_fk" FOREIGN KEY ("set_aside_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_user" ADD CONSTRAINT "app_user_customer_id_customer_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customer"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alarm_line_ts_idx" ON "alarm" USING btree ("line_id","ts");--> statement-breakpoint
CREATE INDEX "alarm_machine_ts_idx" ON "alarm" USING btree ("machine_id","ts");--> statement-breakpoint
CREATE INDEX "alarm_shelved_until_idx" ON "alarm" USING btree ("shelved_until") WHERE "alarm"."state" = 'shelved';--> statement-breakpoint
CREATE UNIQUE INDEX "alarm_open_key" ON "alarm" USING btree ("characteristic_id","rule") WHERE "alarm"."state" <> 'cleared';--> statement-breakpoint
ALTER TABLE "machine" ADD CONSTRAINT "machine_mode_check" CHECK ("machine"."mode" in ('running', 'changeover', 'idle'));--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_kind_check" CHECK ("alarm"."kind" in ('spc', 'spec', 'inspection', 'stale'));--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_state_check" CHECK ("alarm"."state" in ('unacknowledged', 'acknowledged', 'returned', 'cleared', 'shelved', 'suppressed', 'out_of_service'));--> statement-breakpoint
-- Alarms raised before this migration get their machine and line from their characteristic.
UPDATE "alarm" AS a SET "machine_id" = c."machine_id", "line_id" = m."line_id"
	FROM "characteristic" c JOIN "machine" m ON m."id" = c."machine_id"
	WHERE c."id" = a."characteristic_id" AND a."machine_id" IS NULL;
