CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"actor_id" text,
	"actor_name" text,
	"action" text NOT NULL,
	"target" text,
	"ip" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "command_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total" integer NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "commands" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"batch_id" text,
	"type" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"stage" text,
	"progress" integer,
	"error" jsonb,
	"result" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_state" (
	"device_id" text PRIMARY KEY NOT NULL,
	"online" boolean DEFAULT false NOT NULL,
	"fw_version" text,
	"slot" text,
	"last_seen_at" timestamp with time zone,
	"connected_at" timestamp with time zone,
	"disconnected_at" timestamp with time zone,
	"health" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" text PRIMARY KEY NOT NULL,
	"serial" text NOT NULL,
	"model" text NOT NULL,
	"status" text DEFAULT 'registered' NOT NULL,
	"secret_hash" text,
	"kek_public_key" text,
	"fw_version" text,
	"merchant_id" text,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"enrolled_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "health_history" (
	"device_id" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"sample" jsonb NOT NULL,
	CONSTRAINT "health_history_device_id_ts_pk" PRIMARY KEY("device_id","ts")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text NOT NULL,
	"user_id" text NOT NULL,
	"route" text NOT NULL,
	"status" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_user_id_route_key_pk" PRIMARY KEY("user_id","route","key")
);
--> statement-breakpoint
CREATE TABLE "timeline" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"ts" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"summary" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campaign_devices" (
	"campaign_id" text NOT NULL,
	"device_id" text NOT NULL,
	"lane" text NOT NULL,
	"phase" integer NOT NULL,
	"rank" real NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"action" text DEFAULT 'apply' NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"deferrals" integer DEFAULT 0 NOT NULL,
	"sending" boolean DEFAULT false NOT NULL,
	"command_id" text,
	"next_attempt_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"last_heard_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"progress" integer,
	"from_version" text,
	"reported_version" text,
	"note" text,
	"error" jsonb,
	"active" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaign_devices_campaign_id_device_id_pk" PRIMARY KEY("campaign_id","device_id")
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"lane" text NOT NULL,
	"name" text NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"params" jsonb NOT NULL,
	"spec" jsonb NOT NULL,
	"seed" text NOT NULL,
	"phases_started" integer DEFAULT 0 NOT NULL,
	"phase_started_at" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"paused_reason" text,
	"tripped" jsonb,
	"error_baseline" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rolling_back" boolean DEFAULT false NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_diagnostics" (
	"cmd_id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"state" text NOT NULL,
	"requested_by" text,
	"requested_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"result" jsonb,
	"error" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fault_notes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fault_id" text NOT NULL,
	"author_id" text,
	"author_name" text,
	"text" text NOT NULL,
	"ts" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fault_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "faults" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"code" text NOT NULL,
	"title" text NOT NULL,
	"severity" text NOT NULL,
	"severity_rank" smallint NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"detail" text,
	"opened_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"resolution" text,
	"assignee_id" text,
	"assigned_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_bundles" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"cmd_id" text,
	"state" text DEFAULT 'requested' NOT NULL,
	"requested_by" text,
	"requested_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"uploaded_at" timestamp with time zone,
	"size_bytes" bigint,
	"sha256" text,
	"content_type" text,
	"error" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firmware" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"models" jsonb NOT NULL,
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
CREATE TABLE "compromised_devices" (
	"device_id" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"keys_revoked" integer DEFAULT 0 NOT NULL,
	"marked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "key_approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"params" jsonb NOT NULL,
	"reason" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"requested_by" text NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"progress" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "key_policies" (
	"usage" text PRIMARY KEY NOT NULL,
	"max_age_days" integer NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "key_vault_masters" (
	"gen" integer PRIMARY KEY NOT NULL,
	"kcv" text NOT NULL,
	"state" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "keys" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"usage" text NOT NULL,
	"slot" text NOT NULL,
	"version" integer NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"kcv" text NOT NULL,
	"sealed" text,
	"master_gen" integer NOT NULL,
	"parent_key_id" text,
	"rotation_id" text,
	"command_id" text,
	"error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"installed_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"end_reason" text
);
--> statement-breakpoint
CREATE TABLE "binding_epochs" (
	"device_id" text PRIMARY KEY NOT NULL,
	"epoch" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "card_blacklist" (
	"card_hash" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"source" text NOT NULL,
	"device_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "card_blacklist_meta" (
	"id" integer PRIMARY KEY NOT NULL,
	"salt" text NOT NULL,
	"version" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "merchant_alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"merchant_id" text,
	"code" text NOT NULL,
	"severity" text NOT NULL,
	"summary" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "merchant_bindings" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"tid" text NOT NULL,
	"epoch" integer NOT NULL,
	"token" text NOT NULL,
	"rebind_request_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" text,
	"close_reason" text
);
--> statement-breakpoint
CREATE TABLE "merchants" (
	"id" text PRIMARY KEY NOT NULL,
	"mid" text NOT NULL,
	"name" text NOT NULL,
	"mcc" text NOT NULL,
	"address" text NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"radius_m" integer NOT NULL,
	"timezone" text NOT NULL,
	"kind" text NOT NULL,
	"documents" jsonb NOT NULL,
	"sub_merchants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"policy" jsonb NOT NULL,
	"status" text DEFAULT 'pending_review' NOT NULL,
	"status_reason" text,
	"created_by" text,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rebind_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"from_binding_id" text NOT NULL,
	"from_merchant_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"tid" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_by" text NOT NULL,
	"requested_by_name" text,
	"decided_by" text,
	"decided_by_name" text,
	"decision_note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "terminal_control" (
	"device_id" text PRIMARY KEY NOT NULL,
	"locked" boolean DEFAULT false NOT NULL,
	"lock_version" integer DEFAULT 0 NOT NULL,
	"last_lock_command_id" text,
	"relocation_exempt" boolean DEFAULT false NOT NULL,
	"exempt_reason" text,
	"consecutive_out" integer DEFAULT 0 NOT NULL,
	"relocated" boolean DEFAULT false NOT NULL,
	"last_distance_m" double precision,
	"last_fix_at" timestamp with time zone,
	"blacklist_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "terminal_locks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"reason" text NOT NULL,
	"note" text,
	"merchant_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"released_at" timestamp with time zone,
	"released_by" text,
	"release_note" text
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commands" ADD CONSTRAINT "commands_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_state" ADD CONSTRAINT "device_state_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "health_history" ADD CONSTRAINT "health_history_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "timeline" ADD CONSTRAINT "timeline_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_devices" ADD CONSTRAINT "campaign_devices_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_diagnostics" ADD CONSTRAINT "device_diagnostics_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fault_notes" ADD CONSTRAINT "fault_notes_fault_id_faults_id_fk" FOREIGN KEY ("fault_id") REFERENCES "public"."faults"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "faults" ADD CONSTRAINT "faults_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "log_bundles" ADD CONSTRAINT "log_bundles_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compromised_devices" ADD CONSTRAINT "compromised_devices_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "keys" ADD CONSTRAINT "keys_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "binding_epochs" ADD CONSTRAINT "binding_epochs_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchant_alerts" ADD CONSTRAINT "merchant_alerts_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchant_bindings" ADD CONSTRAINT "merchant_bindings_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchant_bindings" ADD CONSTRAINT "merchant_bindings_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rebind_requests" ADD CONSTRAINT "rebind_requests_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rebind_requests" ADD CONSTRAINT "rebind_requests_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "public"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_control" ADD CONSTRAINT "terminal_control_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminal_locks" ADD CONSTRAINT "terminal_locks_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_uq" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action","seq");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_id","seq");--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target","seq");--> statement-breakpoint
CREATE INDEX "audit_log_ts_idx" ON "audit_log" USING btree ("ts");--> statement-breakpoint
CREATE INDEX "commands_device_idx" ON "commands" USING btree ("device_id","issued_at");--> statement-breakpoint
CREATE INDEX "commands_batch_idx" ON "commands" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "commands_open_idx" ON "commands" USING btree ("device_id") WHERE "commands"."state" in ('pending','queued','sent','received','in_progress','deferred');--> statement-breakpoint
CREATE INDEX "device_state_online_idx" ON "device_state" USING btree ("online");--> statement-breakpoint
CREATE UNIQUE INDEX "devices_serial_uq" ON "devices" USING btree ("serial");--> statement-breakpoint
CREATE INDEX "devices_model_idx" ON "devices" USING btree ("model");--> statement-breakpoint
CREATE INDEX "devices_merchant_idx" ON "devices" USING btree ("merchant_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "timeline_device_idx" ON "timeline" USING btree ("device_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "campaign_devices_active_uq" ON "campaign_devices" USING btree ("lane","device_id") WHERE "campaign_devices"."active";--> statement-breakpoint
CREATE INDEX "campaign_devices_command_idx" ON "campaign_devices" USING btree ("command_id");--> statement-breakpoint
CREATE INDEX "campaign_devices_state_idx" ON "campaign_devices" USING btree ("campaign_id","state");--> statement-breakpoint
CREATE INDEX "campaigns_kind_state_idx" ON "campaigns" USING btree ("kind","state");--> statement-breakpoint
CREATE INDEX "device_diagnostics_device_idx" ON "device_diagnostics" USING btree ("device_id","requested_at");--> statement-breakpoint
CREATE INDEX "fault_notes_fault_idx" ON "fault_notes" USING btree ("fault_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "faults_open_uq" ON "faults" USING btree ("device_id","code") WHERE "faults"."state" <> 'resolved';--> statement-breakpoint
CREATE INDEX "faults_queue_idx" ON "faults" USING btree ("state","severity_rank","opened_at");--> statement-breakpoint
CREATE INDEX "faults_device_idx" ON "faults" USING btree ("device_id","opened_at");--> statement-breakpoint
CREATE INDEX "faults_assignee_idx" ON "faults" USING btree ("assignee_id");--> statement-breakpoint
CREATE INDEX "log_bundles_device_idx" ON "log_bundles" USING btree ("device_id","requested_at");--> statement-breakpoint
CREATE INDEX "log_bundles_cmd_idx" ON "log_bundles" USING btree ("cmd_id");--> statement-breakpoint
CREATE UNIQUE INDEX "firmware_name_version_uq" ON "firmware" USING btree ("name","version");--> statement-breakpoint
CREATE INDEX "firmware_sha256_idx" ON "firmware" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "key_approvals_state_idx" ON "key_approvals" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "keys_device_slot_version_uq" ON "keys" USING btree ("device_id","slot","version");--> statement-breakpoint
CREATE INDEX "keys_device_state_idx" ON "keys" USING btree ("device_id","state");--> statement-breakpoint
CREATE INDEX "keys_command_idx" ON "keys" USING btree ("command_id");--> statement-breakpoint
CREATE INDEX "keys_master_gen_idx" ON "keys" USING btree ("master_gen");--> statement-breakpoint
CREATE INDEX "keys_parent_idx" ON "keys" USING btree ("parent_key_id");--> statement-breakpoint
CREATE INDEX "keys_installed_age_idx" ON "keys" USING btree ("usage","installed_at") WHERE "keys"."state" = 'installed';--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_alerts_open_uq" ON "merchant_alerts" USING btree ("device_id","code") WHERE "merchant_alerts"."resolved_at" is null;--> statement-breakpoint
CREATE INDEX "merchant_alerts_device_idx" ON "merchant_alerts" USING btree ("device_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_bindings_one_open_uq" ON "merchant_bindings" USING btree ("device_id") WHERE "merchant_bindings"."closed_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_bindings_tid_uq" ON "merchant_bindings" USING btree ("merchant_id","tid") WHERE "merchant_bindings"."closed_at" is null;--> statement-breakpoint
CREATE INDEX "merchant_bindings_device_idx" ON "merchant_bindings" USING btree ("device_id","created_at");--> statement-breakpoint
CREATE INDEX "merchant_bindings_merchant_idx" ON "merchant_bindings" USING btree ("merchant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "merchants_mid_uq" ON "merchants" USING btree ("mid");--> statement-breakpoint
CREATE INDEX "merchants_status_idx" ON "merchants" USING btree ("status","id");--> statement-breakpoint
CREATE UNIQUE INDEX "rebind_requests_one_pending_uq" ON "rebind_requests" USING btree ("device_id") WHERE "rebind_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "rebind_requests_status_idx" ON "rebind_requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_locks_open_uq" ON "terminal_locks" USING btree ("device_id","reason") WHERE "terminal_locks"."released_at" is null;--> statement-breakpoint
CREATE INDEX "terminal_locks_merchant_idx" ON "terminal_locks" USING btree ("merchant_id") WHERE "terminal_locks"."released_at" is null;