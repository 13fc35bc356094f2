CREATE TABLE "bdks" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scheme" text NOT NULL,
	"key_set_id" text NOT NULL,
	"kcv" text NOT NULL,
	"sealed" text,
	"variant_sealed" text,
	"master_gen" integer NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"origin" text NOT NULL,
	"next_derivation_id" bigint NOT NULL,
	"request_id" text NOT NULL,
	"created_by" text NOT NULL,
	"approved_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dukpt_keys" (
	"key_id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"slot" text NOT NULL,
	"bdk_id" text NOT NULL,
	"scheme" text NOT NULL,
	"initial_ksn" text NOT NULL,
	"ksn" text,
	"counter" bigint,
	"counters_left" bigint,
	"reported_at" timestamp with time zone,
	"counter_low" boolean DEFAULT false NOT NULL,
	"verified_at" timestamp with time zone,
	"verify_error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dukpt_keys" ADD CONSTRAINT "dukpt_keys_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bdks_name_uq" ON "bdks" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "bdks_key_set_uq" ON "bdks" USING btree ("key_set_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bdks_request_uq" ON "bdks" USING btree ("request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "dukpt_keys_initial_ksn_uq" ON "dukpt_keys" USING btree ("initial_ksn");--> statement-breakpoint
CREATE INDEX "dukpt_keys_device_idx" ON "dukpt_keys" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "dukpt_keys_bdk_idx" ON "dukpt_keys" USING btree ("bdk_id");