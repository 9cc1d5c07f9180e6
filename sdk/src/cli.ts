#!/usr/bin/env node
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { isTRPCClientError } from "@trpc/client";
import { createOsmyntClient, type OsmyntClient } from "./client.js";
import { fileSessionStore } from "./session-store.js";

const usage = `Usage:
  osmynt login --server URL --browser          sign in with GitHub in the browser (the link is printed too)
  osmynt login --server URL --github-token     sign in with a GitHub token read from $GITHUB_TOKEN or stdin
                                               (e.g.  gh auth token | osmynt login --server URL --github-token)
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

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError("--github-token reads the token from $GITHUB_TOKEN or stdin, and neither has one");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

/** Prints the code and the sign-in link and asks the desktop to open it; the printed link is enough on its own. */
function openInBrowser(url: string, userCode: string): void {
  console.log(
    `Your sign-in code: ${userCode}\nType it on the page that opens (only ever a code shown here), then sign in with GitHub:\n  ${url}`,
  );
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  spawn(opener, [url], { stdio: "ignore", detached: true })
    .on("error", () => {})
    .unref();
}

type LoginMethod = { devLogin?: string | undefined; githubToken?: boolean | undefined; browser?: boolean | undefined };

async function login(server: string | undefined, method: LoginMethod): Promise<void> {
  if (!server) throw new UsageError("login needs --server URL");
  const chosen = [method.devLogin !== undefined, method.githubToken, method.browser].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError("login needs exactly one of --browser, --github-token or --dev-login NAME");
  // Tokens never come from the command line, where other users of the machine could read them.
  const token = method.githubToken ? process.env.GITHUB_TOKEN?.trim() || (await readStdin()) : "";
  if (method.githubToken && !token) throw new CliError("no GitHub token on stdin or in $GITHUB_TOKEN");
  const session = await withClient(server, (client) => {
    if (method.browser) return client.signInWithBrowser({ openUrl: openInBrowser });
    if (method.githubToken) return client.signInWithGitHubToken(token);
    return client.signInWithDevLogin(method.devLogin as string);
  });
  const { configFile } = paths();
  await mkdir(path.dirname(configFile), { recursive: true, mode: 0o700 });
  await writeFile(configFile, `${JSON.stringify({ server }, null, 2)}\n`, { mode: 0o600 });
  console.log(`Signed in to ${server} as ${session.user.login}`);
}

async function whoami(server: string): Promise<void> {
  const me = await withClient(server, async (client) => {
    if (!(await client.getSession())) throw new CliError("not signed in; run: osmynt login --server URL --browser");
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
    options: {
      server: { type: "string" },
      "dev-login": { type: "string" },
      "github-token": { type: "boolean" },
      browser: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...extra] = positionals;
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!command) throw new UsageError("no command given");
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  if (command === "login") {
    return login(values.server, { devLogin: values["dev-login"], githubToken: values["github-token"], browser: values.browser });
  }
  const server = values.server || process.env.OSMYNT_SERVER || (await savedServer(paths().configFile));
  if (command === "whoami" || command === "logout") {
    if (!server) throw new CliError("no server known; run: osmynt login --server URL --browser");
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
