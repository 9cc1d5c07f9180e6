CREATE TABLE "handshakes" (
	"id" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"state_hash" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"sealed_session" jsonb,
	"failure" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "handshakes_state_hash_unique" UNIQUE("state_hash")
);
--> statement-breakpoint
CREATE INDEX "handshakes_expires_idx" ON "handshakes" USING btree ("expires_at");