CREATE TABLE "device_links" (
	"user_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"device_id" text NOT NULL,
	"signer_device_id" text NOT NULL,
	"hash" text NOT NULL,
	"link" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "device_links_user_id_seq_pk" PRIMARY KEY("user_id","seq"),
	CONSTRAINT "device_links_seq_nonnegative" CHECK ("device_links"."seq" >= 0)
);
--> statement-breakpoint
CREATE TABLE "device_logs" (
	"user_id" text PRIMARY KEY NOT NULL,
	"head_seq" integer NOT NULL,
	"state" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"user_id" text NOT NULL,
	"id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"signing_key" text NOT NULL,
	"kem_key" text,
	"kem_key_id" text,
	"added_seq" integer NOT NULL,
	"revoked_seq" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "devices_user_id_id_pk" PRIMARY KEY("user_id","id")
);
--> statement-breakpoint
CREATE TABLE "pairings" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"status" text DEFAULT 'initiated' NOT NULL,
	"initiator_session_id" text NOT NULL,
	"responder_session_id" text,
	"request" jsonb NOT NULL,
	"response" jsonb,
	"reveal" jsonb,
	"existing_confirmation" jsonb,
	"new_confirmation" jsonb,
	"abort_reason" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device_links" ADD CONSTRAINT "device_links_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_logs" ADD CONSTRAINT "device_logs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pairings" ADD CONSTRAINT "pairings_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pairings_user_idx" ON "pairings" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "pairings_expires_idx" ON "pairings" USING btree ("expires_at");