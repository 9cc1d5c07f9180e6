import { createInterface } from "node:readline";
import { confirm, isCancel, spinner, text } from "@clack/prompts";
import { CliError, ExitCode } from "./exit-codes.js";

/**
 * How a command talks: with `--json`, one JSON document on stdout (a line per item for streams)
 * and nothing else there; otherwise text for people. Progress, hints and prompts go to stderr,
 * so stdout stays what a pipe expects either way. Spinners and prompts appear only on a terminal.
 */
export interface Output {
  readonly json: boolean;
  /** The command's result: `value` as JSON with --json, else the human text (if any). */
  result(value: unknown, human?: string | (() => string)): void;
  /** One JSON line per item with --json (streams such as `watch`), else the human text. */
  item(value: unknown, human: () => string): void;
  /** A line for people, on stderr. */
  note(message: string): void;
  /** Runs `work` under a spinner (on a terminal, without --json). */
  spin<T>(message: string, work: () => Promise<T>): Promise<T>;
  /** Asks yes/no on the terminal; without one, `fallback` explains which flag answers instead. */
  confirm(message: string, fallback: string): Promise<boolean>;
  /** Asks for a line on the terminal; without one, reads a line from stdin (`fallback` says what else answers, should it be empty). */
  ask(message: string, fallback: string): Promise<string>;
}

export function createOutput(json: boolean): Output {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const fancy = !json && Boolean(process.stderr.isTTY);
  const write = (stream: NodeJS.WriteStream, text: string) => stream.write(text.endsWith("\n") ? text : `${text}\n`);
  const cancelled = () => new CliError(ExitCode.conflict, "cancelled");
  return {
    json,
    result(value, human) {
      if (json) write(process.stdout, JSON.stringify(value, null, 2));
      else if (human !== undefined) {
        const textOut = typeof human === "function" ? human() : human;
        if (textOut) write(process.stdout, textOut);
      }
    },
    item(value, human) {
      if (json) write(process.stdout, JSON.stringify(value));
      else write(process.stdout, human());
    },
    note(message) {
      write(process.stderr, message);
    },
    async spin(message, work) {
      if (!fancy) return work();
      const s = spinner({ output: process.stderr });
      s.start(message);
      try {
        const value = await work();
        s.stop(message);
        return value;
      } catch (error) {
        s.error(message);
        throw error;
      }
    },
    async confirm(message, fallback) {
      if (!interactive) throw new CliError(ExitCode.usage, `${message} — no terminal to ask on: ${fallback}`);
      const answer = await confirm({ message, output: process.stderr, initialValue: false });
      if (isCancel(answer)) throw cancelled();
      return answer;
    },
    async ask(message, fallback) {
      if (!interactive) {
        const answer = process.stdin.isTTY ? null : await firstLine();
        if (!answer) throw new CliError(ExitCode.usage, `${message} — no terminal to ask on, nor a line on stdin: ${fallback}`);
        return answer;
      }
      const answer = await text({ message, output: process.stderr });
      if (isCancel(answer)) throw cancelled();
      return answer;
    },
  };
}

/** The first line piped on stdin (scripts answer a prompt that way), or null at its end. */
function firstLine(): Promise<string | null> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    let answered = false;
    lines.once("line", (line) => {
      answered = true;
      lines.close();
      process.stdin.destroy();
      resolve(line.trim() || null);
    });
    lines.once("close", () => answered || resolve(null));
  });
}
