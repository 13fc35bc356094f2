CREATE TABLE "apps" (
	"id" text PRIMARY KEY NOT NULL,
	"package_name" text NOT NULL,
	"version" text NOT NULL,
	"models" jsonb NOT NULL,
	"min_firmware" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"manifest" jsonb NOT NULL,
	"signature" text NOT NULL,
	"publisher_key" text NOT NULL,
	"state" text DEFAULT 'awaiting_content' NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ready_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "device_apps" (
	"device_id" text NOT NULL,
	"package_name" text NOT NULL,
	"version" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "device_apps_device_id_package_name_pk" PRIMARY KEY("device_id","package_name")
);
--> statement-breakpoint
ALTER TABLE "device_apps" ADD CONSTRAINT "device_apps_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "apps_package_version_uq" ON "apps" USING btree ("package_name","version");--> statement-breakpoint
CREATE INDEX "device_apps_package_idx" ON "device_apps" USING btree ("package_name","version");
