ALTER TABLE "key_approvals" ADD COLUMN "sealed" text;--> statement-breakpoint
ALTER TABLE "key_approvals" ADD COLUMN "expires_at" timestamp with time zone;