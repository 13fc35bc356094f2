CREATE TABLE "organisations" (
	"id" text PRIMARY KEY NOT NULL,
	"parent_id" text,
	"name" text NOT NULL,
	"path" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_parent_id_organisations_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "organisations_path_uq" ON "organisations" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "organisations_parent_idx" ON "organisations" USING btree ("parent_id");--> statement-breakpoint
INSERT INTO "organisations" ("id", "parent_id", "name", "path") VALUES ('org_root', NULL, 'Root', '/org_root/');--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "org_id" text DEFAULT 'org_root' NOT NULL;--> statement-breakpoint
ALTER TABLE "merchants" ADD COLUMN "org_id" text DEFAULT 'org_root' NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "org_id" text DEFAULT 'org_root' NOT NULL;--> statement-breakpoint
ALTER TABLE "user_requests" ADD COLUMN "org_id" text DEFAULT 'org_root' NOT NULL;--> statement-breakpoint
ALTER TABLE "user_requests" ADD CONSTRAINT "user_requests_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "users_org_idx" ON "users" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "merchants_org_idx" ON "merchants" USING btree ("org_id");--> statement-breakpoint
CREATE INDEX "devices_org_idx" ON "devices" USING btree ("org_id");
