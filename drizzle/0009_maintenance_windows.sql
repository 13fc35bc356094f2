CREATE TABLE "maintenance_windows" (
	"id" text PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"target_id" text NOT NULL,
	"name" text,
	"days" integer[] NOT NULL,
	"start" text NOT NULL,
	"end" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "maintenance_windows_target_idx" ON "maintenance_windows" USING btree ("scope","target_id");
