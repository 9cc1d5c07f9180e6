CREATE TABLE "share_forwards" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"share_id" text NOT NULL,
	"forwarder_user_id" text NOT NULL,
	"forwarder_device_id" text NOT NULL,
	"record" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "share_reads" (
	"user_id" text NOT NULL,
	"share_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "share_reads_user_id_share_id_pk" PRIMARY KEY("user_id","share_id")
);
--> statement-breakpoint
CREATE TABLE "share_recipients" (
	"share_id" text NOT NULL,
	"user_id" text NOT NULL,
	"device_id" text NOT NULL,
	"kem_key_id" text NOT NULL,
	"enc" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"forward_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "share_recipients_share_id_user_id_device_id_pk" PRIMARY KEY("share_id","user_id","device_id")
);
--> statement-breakpoint
CREATE TABLE "shares" (
	"seq" bigserial NOT NULL,
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text,
	"target_user_id" text,
	"author_id" text NOT NULL,
	"author_device_id" text NOT NULL,
	"suite" text NOT NULL,
	"nonce" text NOT NULL,
	"ciphertext" text NOT NULL,
	"manifest" jsonb NOT NULL,
	"signature" text NOT NULL,
	"ciphertext_bytes" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "shares_one_target" CHECK (("shares"."team_id" is null) <> ("shares"."target_user_id" is null))
);
--> statement-breakpoint
ALTER TABLE "share_forwards" ADD CONSTRAINT "share_forwards_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_reads" ADD CONSTRAINT "share_reads_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_reads" ADD CONSTRAINT "share_reads_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_recipients" ADD CONSTRAINT "share_recipients_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_recipients" ADD CONSTRAINT "share_recipients_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_recipients" ADD CONSTRAINT "share_recipients_forward_id_share_forwards_id_fk" FOREIGN KEY ("forward_id") REFERENCES "public"."share_forwards"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_target_user_id_users_id_fk" FOREIGN KEY ("target_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "share_forwards_share_idx" ON "share_forwards" USING btree ("share_id");--> statement-breakpoint
CREATE INDEX "share_recipients_user_idx" ON "share_recipients" USING btree ("user_id","device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shares_seq_key" ON "shares" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "shares_team_feed_idx" ON "shares" USING btree ("team_id","seq");--> statement-breakpoint
CREATE INDEX "shares_direct_idx" ON "shares" USING btree ("author_id","target_user_id","seq");--> statement-breakpoint
CREATE INDEX "shares_direct_in_idx" ON "shares" USING btree ("target_user_id","seq");--> statement-breakpoint
CREATE INDEX "shares_expires_idx" ON "shares" USING btree ("expires_at");