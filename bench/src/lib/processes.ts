import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** CPU and memory of a server process, as it reports them itself (process.cpuUsage / memoryUsage). */
export interface Usage {
  /** User + system CPU since the process started, in µs. */
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  external: number;
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** Its usage now; with `gc`, after two full garbage collections (for memory figures). */
  usage(gc?: boolean): Promise<Usage>;
  /** Asks the server script to do something it knows (seeding and the like). */
  request<T>(kind: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

const serversDir = fileURLToPath(new URL("../servers/", import.meta.url));
let profiled = 0;

/**
 * Starts one of `src/servers/*.ts` as a process of its own (load clients are other processes),
 * with `--expose-gc` so memory can be read after a collection. It answers requests over IPC.
 * Under `pnpm bench --profile` the engine profiles its measured window (lib/serve.ts) into
 * BENCH_PROFILE_DIR, named by `label` (lib/profile.ts summarizes it).
 */
export async function startServerProcess(script: string, env: Record<string, string> = {}, label = script): Promise<ServerProcess> {
  const profile: Record<string, string> =
    process.env.BENCH_PROFILE_DIR && script === "engine"
      ? { BENCH_PROFILE_FILE: `${String(++profiled).padStart(2, "0")}-${label}.cpuprofile` }
      : {};
  return startScript(`${serversDir}${script}.ts`, { ...env, ...profile }, ["--expose-gc"], script);
}

/** Forks a TypeScript script that speaks lib/serve.ts's IPC (servers, and the load clients of lib/fleet.ts). */
export async function startScript(path: string, env: Record<string, string>, execArgv: string[], script = path): Promise<ServerProcess> {
  const child: ChildProcess = fork(path, [], {
    execArgv: ["--conditions=osmynt-source", "--import", "tsx", ...execArgv],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const ready = new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    child.on("message", (message: any) => {
      if (message.type === "ready") resolve(message.url);
      else if (message.type === "answer") {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result);
      }
    });
  });
  const url = await ready;
  // A process that dies fails what is waiting on it, rather than leaving the measure hanging.
  child.once("exit", (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${signal ?? code}) during a request`));
    pending.clear();
  });
  const request = <T>(kind: string, args?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ type: "request", id, kind, args });
    });
  return {
    url,
    pid: child.pid as number,
    usage: (gc = false) => request<Usage>("usage", { gc }),
    request,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
