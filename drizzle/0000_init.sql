CREATE TABLE "characteristic" (
	"id" serial PRIMARY KEY NOT NULL,
	"machine_id" integer NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"unit" text NOT NULL,
	"kind" text NOT NULL,
	"chart" text NOT NULL,
	"subgroup_size" integer DEFAULT 1 NOT NULL,
	"sampling_interval_ms" integer NOT NULL,
	"spec_lsl" double precision,
	"spec_target" double precision,
	"spec_usl" double precision,
	"suspect" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"rules" jsonb NOT NULL,
	"decimals" integer DEFAULT 2 NOT NULL,
	"source_tag" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "characteristic_code_unique" UNIQUE("code"),
	CONSTRAINT "characteristic_kind_check" CHECK ("characteristic"."kind" in ('variable', 'attribute')),
	CONSTRAINT "characteristic_chart_check" CHECK ("characteristic"."chart" in ('imr', 'xbar-r', 'xbar-s', 'p', 'np', 'c', 'u', 'ewma', 'cusum')),
	CONSTRAINT "characteristic_subgroup_size_check" CHECK ("characteristic"."subgroup_size" >= 1),
	CONSTRAINT "characteristic_sampling_interval_check" CHECK ("characteristic"."sampling_interval_ms" > 0),
	CONSTRAINT "characteristic_decimals_check" CHECK ("characteristic"."decimals" between 0 and 9)
);
--> statement-breakpoint
CREATE TABLE "line" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "line_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "machine" (
	"id" serial PRIMARY KEY NOT NULL,
	"line_id" integer NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "machine_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "site" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "site_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "control_limit_version" (
	"id" serial PRIMARY KEY NOT NULL,
	"characteristic_id" integer NOT NULL,
	"version" integer NOT NULL,
	"centre" double precision NOT NULL,
	"sigma" double precision NOT NULL,
	"source" text NOT NULL,
	"effective_from" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "control_limit_version_characteristic_version_key" UNIQUE("characteristic_id","version")
);
--> statement-breakpoint
CREATE TABLE "sample" (
	"characteristic_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"seq" bigint NOT NULL,
	"value" double precision NOT NULL,
	"flags" smallint DEFAULT 0 NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sample_pkey" PRIMARY KEY("characteristic_id","ts","seq")
);
--> statement-breakpoint
CREATE TABLE "sample_quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"characteristic_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"seq" bigint NOT NULL,
	"stored_value" double precision NOT NULL,
	"stored_flags" smallint NOT NULL,
	"received_value" double precision NOT NULL,
	"received_flags" smallint NOT NULL,
	"batch_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subgroup" (
	"characteristic_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"n" integer NOT NULL,
	"value" double precision NOT NULL,
	"dispersion" double precision,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subgroup_pkey" PRIMARY KEY("characteristic_id","ts")
);
--> statement-breakpoint
CREATE TABLE "alarm" (
	"id" serial PRIMARY KEY NOT NULL,
	"characteristic_id" integer NOT NULL,
	"rule" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"message" text NOT NULL,
	"side" text,
	"chart" text DEFAULT 'primary' NOT NULL,
	"value" double precision,
	"point_ts" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"state" text DEFAULT 'unacknowledged' NOT NULL,
	"raised_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alarm_characteristic_rule_ts_key" UNIQUE("characteristic_id","rule","ts"),
	CONSTRAINT "alarm_state_check" CHECK ("alarm"."state" in ('unacknowledged', 'acknowledged', 'returned', 'cleared'))
);
--> statement-breakpoint
CREATE TABLE "worker" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	CONSTRAINT "worker_name_unique" UNIQUE("name"),
	CONSTRAINT "worker_token_sha256_unique" UNIQUE("token_sha256")
);
--> statement-breakpoint
ALTER TABLE "characteristic" ADD CONSTRAINT "characteristic_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "line" ADD CONSTRAINT "line_site_id_site_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."site"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "machine" ADD CONSTRAINT "machine_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD CONSTRAINT "control_limit_version_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subgroup" ADD CONSTRAINT "subgroup_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alarm" ADD CONSTRAINT "alarm_characteristic_id_characteristic_id_fk" FOREIGN KEY ("characteristic_id") REFERENCES "public"."characteristic"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "characteristic_machine_idx" ON "characteristic" USING btree ("machine_id");--> statement-breakpoint
CREATE INDEX "line_site_idx" ON "line" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "machine_line_idx" ON "machine" USING btree ("line_id");--> statement-breakpoint
CREATE INDEX "sample_quarantine_key_idx" ON "sample_quarantine" USING btree ("characteristic_id","ts","seq");--> statement-breakpoint
CREATE INDEX "alarm_state_idx" ON "alarm" USING btree ("state","ts");