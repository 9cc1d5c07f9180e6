ALTER TABLE "handshakes" ADD COLUMN "retrieval_secret_hash" text;--> statement-breakpoint
ALTER TABLE "handshakes" ADD COLUMN "code_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "handshakes" ADD COLUMN "user_id" text;