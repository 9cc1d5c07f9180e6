#!/usr/bin/env node
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { isTRPCClientError } from "@trpc/client";
import { createOsmyntClient, type OsmyntClient } from "./client.js";
import { fileSessionStore } from "./session-store.js";

const usage = `Usage:
  osmynt login --server URL --dev-login NAME   sign in to a local development server
  osmynt whoami [--server URL]                 show who is signed in
  osmynt logout [--server URL]                 end the session and forget it

The session is kept in $OSMYNT_SESSION_FILE, else ~/.config/osmynt/session.json (owner-only),
and the server URL next to it in config.json.`;

/** A failure to report in one line, without a stack. */
class CliError extends Error {}
/** The command line itself was wrong: the usage follows the message. */
class UsageError extends CliError {}

function paths() {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(homedir(), ".config");
  const sessionFile = path.resolve(process.env.OSMYNT_SESSION_FILE || path.join(configHome, "osmynt", "session.json"));
  return { sessionFile, configFile: path.join(path.dirname(sessionFile), "config.json") };
}

async function savedServer(configFile: string): Promise<string | null> {
  try {
    const config = JSON.parse(await readFile(configFile, "utf8")) as { server?: unknown };
    return typeof config.server === "string" ? config.server : null;
  } catch {
    return null;
  }
}

async function withClient<T>(server: string, run: (client: OsmyntClient) => Promise<T>): Promise<T> {
  const client = createOsmyntClient({ url: server, session: fileSessionStore(paths().sessionFile) });
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

async function login(server: string | undefined, devLogin: string | undefined): Promise<void> {
  if (!server) throw new UsageError("login needs --server URL");
  if (!devLogin) throw new UsageError("login needs --dev-login NAME (GitHub sign-in is not in the CLI yet)");
  const session = await withClient(server, (client) => client.signInWithDevLogin(devLogin));
  const { configFile } = paths();
  await mkdir(path.dirname(configFile), { recursive: true, mode: 0o700 });
  await writeFile(configFile, `${JSON.stringify({ server }, null, 2)}\n`, { mode: 0o600 });
  console.log(`Signed in to ${server} as ${session.user.login}`);
}

async function whoami(server: string): Promise<void> {
  const me = await withClient(server, async (client) => {
    if (!(await client.getSession())) throw new CliError("not signed in; run: osmynt login --server URL --dev-login NAME");
    return client.auth.me.query();
  });
  console.log(`${me.login}${me.name && me.name !== me.login ? ` (${me.name})` : ""} on ${server}`);
}

async function logout(server: string): Promise<void> {
  const signedIn = await withClient(server, async (client) => {
    if (!(await client.getSession())) return false;
    await client.signOut();
    return true;
  });
  console.log(signedIn ? "Signed out" : "Not signed in");
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { server: { type: "string" }, "dev-login": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, ...extra] = positionals;
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!command) throw new UsageError("no command given");
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  if (command === "login") return login(values.server, values["dev-login"]);
  const server = values.server || process.env.OSMYNT_SERVER || (await savedServer(paths().configFile));
  if (command === "whoami" || command === "logout") {
    if (!server) throw new CliError("no server known; run: osmynt login --server URL --dev-login NAME");
    return command === "whoami" ? whoami(server) : logout(server);
  }
  throw new UsageError(`unknown command: ${command}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = (error as { code?: unknown }).code;
  const isUsage = error instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
  if (isUsage || error instanceof CliError || isTRPCClientError(error)) {
    console.error(`osmynt: ${(error as Error).message}${isUsage ? `\n\n${usage}` : ""}`);
  } else {
    console.error(error);
  }
  process.exitCode = isUsage ? 2 : 1;
});
