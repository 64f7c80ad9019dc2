CREATE TABLE "capa" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"deviation_id" integer NOT NULL,
	"kind" text NOT NULL,
	"description" text NOT NULL,
	"owner_id" integer NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"outcome" text,
	"done_at" timestamp with time zone,
	"done_by" integer,
	"created_by" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "capa_code_unique" UNIQUE("code"),
	CONSTRAINT "capa_kind_check" CHECK ("capa"."kind" in ('corrective', 'preventive')),
	CONSTRAINT "capa_status_check" CHECK ("capa"."status" in ('open', 'done', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "change_request" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"justification" text NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"characteristic_id" integer,
	"product_id" integer,
	"process_version_id" integer,
	"line_id" integer,
	"proposal" jsonb NOT NULL,
	"impact" jsonb,
	"effective_from" timestamp with time zone,
	"revision" integer DEFAULT 1 NOT NULL,
	"author_id" integer NOT NULL,
	"approver_id" integer,
	"result_limit_version_id" integer,
	"result_process_version_id" integer,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"impact_at" timestamp with time zone,
	"review_at" timestamp with time zone,
	"approved_at" timestamp with time zone,
	"implemented_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"rejected_at" timestamp with time zone,
	"withdrawn_at" timestamp with time zone,
	"decision_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_request_code_unique" UNIQUE("code"),
	CONSTRAINT "change_request_kind_check" CHECK ("change_request"."kind" in ('process-version', 'spec-limit', 'control-limit', 'rule-set', 'sampling-plan')),
	CONSTRAINT "change_request_status_check" CHECK ("change_request"."status" in ('draft', 'impact', 'review', 'approved', 'implemented', 'closed', 'rejected', 'withdrawn')),
	CONSTRAINT "change_request_revision_check" CHECK ("change_request"."revision" >= 1)
);
--> statement-breakpoint
CREATE TABLE "characteristic_config_version" (
	"id" serial PRIMARY KEY NOT NULL,
	"characteristic_id" integer NOT NULL,
	"version" integer NOT NULL,
	"rules" jsonb,
	"subgroup_size" integer,
	"sampling_interval_ms" integer,
	"effective_from" timestamp with time zone NOT NULL,
	"change_request_id" integer,
	"applied_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kpi_target" (
	"id" serial PRIMARY KEY NOT NULL,
	"kpi" text NOT NULL,
	"site_id" integer,
	"target" double precision NOT NULL,
	"better" text NOT NULL,
	"updated_by" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kpi_target_better_check" CHECK ("kpi_target"."better" in ('higher', 'lower'))
);
--> statement-breakpoint
ALTER TABLE "deviation" DROP CONSTRAINT "deviation_status_check";--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "line_id" integer;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "severity" text DEFAULT 'minor' NOT NULL;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "owner_id" integer;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "containment" text;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "contained_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "contained_by" integer;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "root_cause" text;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "investigated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "investigated_by" integer;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "effectiveness_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "effectiveness_result" text;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "effective" boolean;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "effectiveness_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "effectiveness_checked_by" integer;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "deviation" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "capa" ADD CONSTRAINT "capa_deviation_id_deviation_id_fk" FOREIGN KEY ("deviation_id") REFERENCES "public"."deviation"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "capa" ADD CONSTRAINT "capa_owner_id_app_user_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "capa" ADD CONSTRAINT "capa_done_by_app_user_id_fk" FOREIGN KEY ("done_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "capa" ADD CONSTRAINT "capa_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_product_id_product_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."product"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_process_version_id_process_version_id_fk" FOREIGN KEY ("process_version_id") REFERENCES "public"."process_version"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_author_id_app_user_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_approver_id_app_user_id_fk" FOREIGN KEY ("approver_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_result_limit_version_id_control_limit_version_id_fk" FOREIGN KEY ("result_limit_version_id") REFERENCES "public"."control_limit_version"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_request" ADD CONSTRAINT "change_request_result_process_version_id_process_version_id_fk" FOREIGN KEY ("result_process_version_id") REFERENCES "public"."process_version"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "characteristic_config_version" ADD CONSTRAINT "characteristic_config_version_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "characteristic_config_version" ADD CONSTRAINT "characteristic_config_version_change_request_id_change_request_id_fk" FOREIGN KEY ("change_request_id") REFERENCES "public"."change_request"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kpi_target" ADD CONSTRAINT "kpi_target_site_id_site_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."site"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kpi_target" ADD CONSTRAINT "kpi_target_updated_by_app_user_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "capa_deviation_idx" ON "capa" USING btree ("deviation_id");--> statement-breakpoint
CREATE INDEX "capa_open_due_idx" ON "capa" USING btree ("status","due_at");--> statement-breakpoint
CREATE INDEX "change_request_status_idx" ON "change_request" USING btree ("status");--> statement-breakpoint
CREATE INDEX "change_request_opened_idx" ON "change_request" USING btree ("opened_at");--> statement-breakpoint
CREATE INDEX "change_request_characteristic_idx" ON "change_request" USING btree ("characteristic_id");--> statement-breakpoint
CREATE UNIQUE INDEX "characteristic_config_version_key" ON "characteristic_config_version" USING btree ("characteristic_id","version");--> statement-breakpoint
CREATE INDEX "characteristic_config_version_pending_idx" ON "characteristic_config_version" USING btree ("applied_at","effective_from");--> statement-breakpoint
CREATE UNIQUE INDEX "kpi_target_scope_key" ON "kpi_target" USING btree ("kpi",coalesce("site_id", 0));--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_owner_id_app_user_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_contained_by_app_user_id_fk" FOREIGN KEY ("contained_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_investigated_by_app_user_id_fk" FOREIGN KEY ("investigated_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_effectiveness_checked_by_app_user_id_fk" FOREIGN KEY ("effectiveness_checked_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deviation_status_idx" ON "deviation" USING btree ("status");--> statement-breakpoint
CREATE INDEX "deviation_opened_idx" ON "deviation" USING btree ("opened_at");--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_severity_check" CHECK ("deviation"."severity" in ('minor', 'major', 'critical'));--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_revision_check" CHECK ("deviation"."revision" >= 1);--> statement-breakpoint
ALTER TABLE "deviation" ADD CONSTRAINT "deviation_status_check" CHECK ("deviation"."status" in ('open', 'contained', 'investigated', 'actions', 'effectiveness', 'closed'));