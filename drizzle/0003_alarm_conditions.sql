-- One open alarm per (characteristic, rule). Written by hand around the generated statements so
-- it also applies to a database that already holds alarms: backfill last_ts, and fold earlier
-- per-violation rows of the same open condition into the newest one before the unique index.
ALTER TABLE "alarm" ADD COLUMN "last_ts" timestamp with time zone;--> statement-breakpoint
UPDATE "alarm" SET "last_ts" = "ts";--> statement-breakpoint
ALTER TABLE "alarm" ALTER COLUMN "last_ts" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "occurrences" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "alarm" ADD COLUMN "returned_at" timestamp with time zone;--> statement-breakpoint
UPDATE "alarm" a SET "state" = 'cleared'
	WHERE a."state" in ('unacknowledged', 'acknowledged', 'returned')
	AND EXISTS (
		SELECT 1 FROM "alarm" b
		WHERE b."characteristic_id" = a."characteristic_id" AND b."rule" = a."rule"
		AND b."state" in ('unacknowledged', 'acknowledged', 'returned')
		AND (b."ts", b."id") > (a."ts", a."id")
	);--> statement-breakpoint
CREATE UNIQUE INDEX "alarm_open_key" ON "alarm" USING btree ("characteristic_id","rule") WHERE "alarm"."state" in ('unacknowledged', 'acknowledged', 'returned');
