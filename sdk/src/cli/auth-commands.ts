import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { type Command, Option } from "commander";
import type { Session } from "../app-router.js";
import { fileSessionStore } from "../session-store.js";
import { base, clientFor, defaultDeviceName, devicesFor, ensureDevice, rememberServer, signedIn } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";

const exec = promisify(execFile);

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

/** The GitHub CLI's token, when `gh` is installed and signed in; null otherwise. */
async function ghToken(): Promise<string | null> {
  try {
    const { stdout } = await exec("gh", ["auth", "token"], { timeout: 10_000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** Prints the code and the link and asks the desktop to open it; the printed link is enough on its own. */
function openInBrowser(url: string, userCode: string): void {
  // stdout, not stderr: the code is what the person needs, and scripts driving a browser read it there.
  process.stdout.write(
    `Your sign-in code: ${userCode}\nType it on the page that opens (only ever a code shown here), then sign in with GitHub:\n  ${url}\n`,
  );
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  spawn(opener, [url], { stdio: "ignore", detached: true })
    .on("error", () => {})
    .unref();
}

interface LoginOptions {
  dev?: string;
  devLogin?: string;
  githubToken?: boolean;
  browser?: boolean;
  gh?: boolean;
  deviceName?: string;
}

export function registerAuthCommands(program: Command): void {
  program
    .command("login")
    .description("sign in: in the browser with GitHub (default), with a GitHub token, or --dev on a local server")
    .option("--browser", "sign in with GitHub in the browser (the code and the link are printed)")
    .option("--github-token", "sign in with a GitHub token read from stdin or $GITHUB_TOKEN (never an argument)")
    .option("--dev <login>", "sign in as <login> on a local development server")
    .addOption(new Option("--dev-login <login>", "the same as --dev").hideHelp())
    .option("--no-gh", "do not reuse the GitHub CLI's token (`gh auth token`) when no method is given")
    .option("--device-name <name>", "the name this device gets in your account", defaultDeviceName())
    .action(async (options: LoginOptions, command: Command) => {
      const b = await base(command);
      if (!b.server) throw new CliError(ExitCode.usage, "login needs --server URL (or $OSMYNT_SERVER)");
      const server = b.server;
      const dev = options.dev ?? options.devLogin;
      const chosen = [dev !== undefined, options.githubToken, options.browser].filter(Boolean).length;
      if (chosen > 1) throw new CliError(ExitCode.usage, "login takes one of --browser, --github-token or --dev <login>");
      // Tokens never come from the command line, where other users of the machine could read them.
      let token = options.githubToken ? process.env.GITHUB_TOKEN?.trim() || (await readStdin()) : "";
      if (options.githubToken && !token) throw new CliError(ExitCode.usage, "no GitHub token on stdin or in $GITHUB_TOKEN");
      let method = dev !== undefined ? "dev" : options.githubToken ? "github-token" : "browser";
      if (chosen === 0 && options.gh !== false) {
        const fromGh = await ghToken();
        if (fromGh) {
          token = fromGh;
          method = "gh";
          b.out.note("Signing in with the GitHub CLI's token (gh auth token); --no-gh to use the browser");
        }
      }
      const client = clientFor(b, server);
      try {
        const session: Session = await b.out.spin(`Signing in to ${server}`, () => {
          if (method === "dev") return client.signInWithDevLogin(dev as string);
          if (method === "browser") return client.signInWithBrowser({ openUrl: openInBrowser });
          return client.signInWithGitHubToken(token);
        });
        await rememberServer(b, server);
        const { devices } = devicesFor(b, client, session.user.id);
        let device: { deviceId: string; registered: boolean } | null = null;
        let hint: string | null = null;
        try {
          device = await ensureDevice(client, devices, options.deviceName ?? defaultDeviceName());
        } catch (error) {
          if (!(error instanceof CliError)) throw error;
          hint = error.message;
        }
        b.out.result({ server, method, user: session.user, device, needsPairing: device === null }, () =>
          [
            `Signed in to ${server} as ${session.user.login}`,
            device?.registered ? `This device (${device.deviceId}) is now your account's first device` : "",
            hint ? `Note: ${hint}` : "",
          ]
            .filter(Boolean)
            .join("\n"),
        );
      } finally {
        await client.close();
      }
    });

  program
    .command("logout")
    .description("end the session on the server and forget it here (this device's keys stay)")
    .action(async (_options: unknown, command: Command) => {
      const b = await base(command);
      const session = await fileSessionStore(b.paths.session).get();
      if (!session || !b.server || b.server !== b.savedServer) {
        b.out.result({ signedOut: false }, "Not signed in");
        return;
      }
      await signedIn(command, (ctx) => ctx.client.signOut());
      b.out.result({ signedOut: true, server: b.server, login: session.user.login }, `Signed out of ${b.server}`);
    });

  program
    .command("whoami")
    .description("show who is signed in, where, and this device")
    .action((_options: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const me = await ctx.client.auth.me.query();
        const keys = await ctx.devices.thisDevice();
        ctx.out.result({ server: ctx.server, user: me, deviceId: keys?.deviceId ?? null }, () =>
          [
            `${me.login}${me.name && me.name !== me.login ? ` (${me.name})` : ""} on ${ctx.server}`,
            keys ? `device ${keys.deviceId}` : "this device has no keys yet",
          ].join("\n"),
        );
      }),
    );
}
