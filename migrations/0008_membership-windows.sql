CREATE TABLE "membership_windows" (
	"team_id" text NOT NULL,
	"user_id" text NOT NULL,
	"joined_event_id" bigint NOT NULL,
	"left_event_id" bigint,
	CONSTRAINT "membership_windows_team_id_user_id_joined_event_id_pk" PRIMARY KEY("team_id","user_id","joined_event_id")
);
--> statement-breakpoint
CREATE INDEX "membership_windows_user_idx" ON "membership_windows" USING btree ("user_id");--> statement-breakpoint
-- Backfill from the log: each team-scoped join opens a window, closed by the next removal of that member or the team's deletion.
INSERT INTO "membership_windows" ("team_id", "user_id", "joined_event_id", "left_event_id")
SELECT j."team_id", j."payload"->>'userId', j."id",
  (SELECT min(l."id") FROM "events" l
    WHERE l."team_id" = j."team_id" AND l."id" > j."id"
      AND ((l."type" = 'team.memberLeft' AND l."payload"->>'userId' = j."payload"->>'userId') OR l."type" = 'team.deleted'))
FROM "events" j
WHERE j."type" = 'team.memberJoined' AND j."team_id" IS NOT NULL AND j."payload"->>'userId' IS NOT NULL
ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Current members whose join event retention already pruned: a window from the start of what is kept.
INSERT INTO "membership_windows" ("team_id", "user_id", "joined_event_id", "left_event_id")
SELECT m."team_id", m."user_id", 0, NULL
FROM "team_members" m JOIN "teams" t ON t."id" = m."team_id" AND t."deleted_at" IS NULL
WHERE NOT EXISTS (
  SELECT 1 FROM "membership_windows" w WHERE w."team_id" = m."team_id" AND w."user_id" = m."user_id" AND w."left_event_id" IS NULL
)
ON CONFLICT DO NOTHING;
