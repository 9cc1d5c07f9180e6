CREATE TABLE "event_log_state" (
	"id" smallint PRIMARY KEY NOT NULL,
	"pruned_through" bigint DEFAULT 0 NOT NULL
);
