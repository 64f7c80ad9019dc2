-- Hand-written (drizzle-kit cannot express partitioning): re-create "sample" range-partitioned
-- by "ts". Columns and primary key stay exactly those of src/lib/server/db/schema/measurements.ts
-- (the primary key includes the partition key, as PostgreSQL requires).
-- Daily partitions are created ahead by ensurePartitions() (src/lib/server/db/partitions.ts);
-- the DEFAULT partition catches any row no daily partition covers (very old data, or maintenance
-- that fell behind), so a write never fails for want of a partition.
-- Only PostgreSQL 15 features: this runs on CI's PostgreSQL 15 and on PGlite (PostgreSQL 18).
ALTER TABLE "sample" RENAME CONSTRAINT "sample_pkey" TO "sample_unpartitioned_pkey";
--> statement-breakpoint
ALTER TABLE "sample" RENAME TO "sample_unpartitioned";
--> statement-breakpoint
CREATE TABLE "sample" (
	"characteristic_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"seq" bigint NOT NULL,
	"value" double precision NOT NULL,
	"flags" smallint DEFAULT 0 NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sample_pkey" PRIMARY KEY("characteristic_id","ts","seq")
) PARTITION BY RANGE ("ts");
--> statement-breakpoint
CREATE TABLE "sample_default" PARTITION OF "sample" DEFAULT;
--> statement-breakpoint
-- Empty on a fresh database (0000 and 0001 are applied together); kept so no row is ever lost.
INSERT INTO "sample" SELECT * FROM "sample_unpartitioned";
--> statement-breakpoint
DROP TABLE "sample_unpartitioned";
