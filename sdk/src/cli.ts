#!/usr/bin/env node
/**
 * The `osmynt` command: this file only wires the command groups in ./cli/ to commander and turns
 * failures into one line on stderr (a JSON object with --json) and a documented exit code.
 */
import { Command, CommanderError } from "commander";
import { registerApplyCommand } from "./cli/apply-command.js";
import { registerAuthCommands } from "./cli/auth-commands.js";
import { registerDevicesCommands } from "./cli/devices-commands.js";
import { classify, ExitCode } from "./cli/exit-codes.js";
import { registerShareCommands } from "./cli/share-commands.js";
import { registerTeamsCommands } from "./cli/teams-commands.js";
import { registerWatchCommand } from "./cli/watch-command.js";

const exitCodes = `Exit codes:
  0  ok
  1  usage: bad arguments or input, a file that cannot be read
  2  not signed in (or the session ended), or this device is not in your account yet
  3  not found or forbidden: no such team, user, share or device for you
  4  integrity or trust failure: a signature, device log or share does not verify, or a path escapes the repository
  5  network or server failure
  6  conflict: a file changed since the shared commit, a declined prompt, an expired invite

Files live in $OSMYNT_CONFIG_DIR, else the platform's config folder ($XDG_CONFIG_HOME/osmynt on Linux), owner-only.`;

export function buildProgram(): Command {
  const program = new Command("osmynt")
    .description("End-to-end encrypted code sharing with Osmynt Engine")
    .option("--json", "print JSON for scripts (stable shapes; errors as JSON on stderr)")
    .option("--server <url>", "the server (default: $OSMYNT_SERVER, else the last login's)")
    .showHelpAfterError("(osmynt --help for usage)")
    .addHelpText("after", `\n${exitCodes}`)
    .exitOverride();
  registerAuthCommands(program);
  registerTeamsCommands(program);
  registerDevicesCommands(program);
  registerShareCommands(program);
  registerWatchCommand(program);
  registerApplyCommand(program);
  // Every subcommand reports its parse errors through the same path as the rest.
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes("--json");
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
  } catch (error) {
    // Help, version, and a group named without its command print what they print and exit 0/1 as commander says.
    if (
      error instanceof CommanderError &&
      (error.exitCode === 0 || error.code === "commander.help" || error.code === "commander.helpDisplayed")
    ) {
      process.exitCode = error.exitCode;
      return;
    }
    const failure = classify(error);
    // Commander already printed its own message for a bad command line.
    if (json)
      process.stderr.write(
        `${JSON.stringify({ error: { code: failure.code, exitCode: failure.exitCode, message: failure.message, ...(failure.details ? { details: failure.details } : {}) } })}\n`,
      );
    else if (!(error instanceof CommanderError)) process.stderr.write(`osmynt: ${failure.message}\n`);
    if (!(error instanceof CommanderError) && failure.exitCode === ExitCode.usage && !json && process.env.OSMYNT_DEBUG)
      console.error(error);
    process.exitCode = failure.exitCode;
  }
}

await main(process.argv.slice(2));
