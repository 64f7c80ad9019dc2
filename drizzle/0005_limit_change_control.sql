ALTER TABLE "control_limit_version" ADD COLUMN "status" text DEFAULT 'effective' NOT NULL;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD COLUMN "revision" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD COLUMN "justification" text;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD COLUMN "created_by" integer;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD CONSTRAINT "control_limit_version_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD CONSTRAINT "control_limit_version_status_check" CHECK ("control_limit_version"."status" in ('draft', 'effective'));--> statement-breakpoint
ALTER TABLE "control_limit_version" ADD CONSTRAINT "control_limit_version_revision_check" CHECK ("control_limit_version"."revision" >= 1);--> statement-breakpoint
-- An effective (approved) limit version is frozen: its signatures bind to its content and
-- workers run on it. A change is a new version; only drafts may be edited, and no version is
-- ever deleted.
CREATE FUNCTION control_limit_version_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'control_limit_version rows are never deleted' USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF OLD.status = 'effective' THEN
		RAISE EXCEPTION 'control_limit_version % is effective and cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER control_limit_version_frozen BEFORE UPDATE OR DELETE ON "control_limit_version"
	FOR EACH ROW EXECUTE FUNCTION control_limit_version_refuse_change();
