import type { Command } from "commander";
import { ResyncRequiredError } from "../stream-errors.js";
import { readJson, writeJson } from "./config.js";
import type { Context } from "./context.js";
import { signedIn } from "./context.js";
import { CliError, classify, ExitCode } from "./exit-codes.js";
import { loginsById } from "./resolve.js";
import { shareHeading, shareJson } from "./share-json.js";

/** `watch` resumes from the last event it handled, per server and account, kept in cursors.json. */
const cursorKey = (ctx: Context) => `${ctx.server} ${ctx.session.user.id}`;

async function loadCursor(ctx: Context): Promise<string | undefined> {
  const value = (await readJson<Record<string, string>>(ctx.paths.cursors))[cursorKey(ctx)];
  return typeof value === "string" && /^\d+$/.test(value) ? value : undefined;
}

async function saveCursor(ctx: Context, eventId: string | undefined): Promise<void> {
  const all = await readJson<Record<string, string>>(ctx.paths.cursors);
  if (eventId === undefined) delete all[cursorKey(ctx)];
  else all[cursorKey(ctx)] = eventId;
  await writeJson(ctx.paths, ctx.paths.cursors, all);
}

export function registerWatchCommand(program: Command): void {
  program
    .command("watch")
    .description("print shares as they arrive, decrypted on this device; resumes where the last watch stopped")
    .option("--count <n>", "stop after this many shares")
    .option("--from-now", "ignore the saved position: only shares from now on")
    .action((options: { count?: string; fromNow?: boolean }, command: Command) =>
      signedIn(command, async (ctx) => {
        const limit = options.count === undefined ? Number.POSITIVE_INFINITY : Number(options.count);
        if (!(limit >= 1) || (Number.isFinite(limit) && !Number.isInteger(limit)))
          throw new CliError(ExitCode.usage, "--count must be a positive whole number");
        await ctx.ensureDevice();
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        let logins = await loginsById(ctx);
        let seen = 0;
        let cursor = options.fromNow ? undefined : await loadCursor(ctx);
        try {
          while (!stop.signal.aborted && seen < limit) {
            try {
              const live = ctx.shares.live({
                ...(cursor ? { lastEventId: cursor } : {}),
                signal: stop.signal,
                onReady: () =>
                  ctx.out.note(`Watching for shares on ${ctx.server}${cursor ? ` (resuming after event ${cursor})` : ""}; Ctrl-C stops`),
              });
              for await (const item of live) {
                if (item.share) {
                  if (!logins.has(item.share.authorId)) logins = await loginsById(ctx);
                  const author = logins.get(item.share.authorId) ?? null;
                  const share = item.share;
                  ctx.out.item({ eventId: item.eventId, share: shareJson(share, author) }, () =>
                    [
                      `── ${shareHeading(share, author)}`,
                      ...share.warnings.map((w) => `   warning: ${w}`),
                      share.code.replace(/\n$/, ""),
                      "",
                    ].join("\n"),
                  );
                } else {
                  const failure = classify(item.error);
                  ctx.out.item(
                    { eventId: item.eventId, shareId: item.shareId, error: { code: failure.code, message: failure.message } },
                    () => `── ${item.shareId}: could not be opened on this device: ${failure.message}\n`,
                  );
                }
                cursor = item.eventId;
                await saveCursor(ctx, cursor);
                if (++seen >= limit) break;
              }
              break;
            } catch (error) {
              if (!(error instanceof ResyncRequiredError)) throw error;
              ctx.out.note(
                "The saved position is older than the server keeps events: starting again from now (shares in between are in `osmynt list`)",
              );
              cursor = undefined;
              await saveCursor(ctx, undefined);
            }
          }
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        }
      }),
    );
}
