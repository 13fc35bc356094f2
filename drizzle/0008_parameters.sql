CREATE TABLE "parameter_templates" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"description" text,
	"applies_to" jsonb NOT NULL,
	"fields" jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "parameter_templates_name_version_uq" ON "parameter_templates" USING btree ("name","version");--> statement-breakpoint
CREATE TABLE "parameter_assignments" (
	"template_id" text NOT NULL,
	"tier" text NOT NULL,
	"target_id" text NOT NULL,
	"values" jsonb NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "parameter_assignments_template_id_tier_target_id_pk" PRIMARY KEY("template_id","tier","target_id")
);
--> statement-breakpoint
ALTER TABLE "parameter_assignments" ADD CONSTRAINT "parameter_assignments_template_id_parameter_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."parameter_templates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE TABLE "device_parameters" (
	"device_id" text PRIMARY KEY NOT NULL,
	"template_id" text NOT NULL,
	"version" integer NOT NULL,
	"digest" text NOT NULL,
	"values" jsonb NOT NULL,
	"reported_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device_parameters" ADD CONSTRAINT "device_parameters_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "device_parameters_template_idx" ON "device_parameters" USING btree ("template_id");
