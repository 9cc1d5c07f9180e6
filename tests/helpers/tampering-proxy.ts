import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Rewrites one tRPC answer: `path` is the procedure (`keys.forUser`), `data` the result's `data`.
 * Return the data to send instead (or the same object, changed in place).
 */
export type Tamper = (path: string, data: any) => any;

/**
 * An HTTP proxy in front of a server that plays a malicious server: every tRPC answer over HTTP
 * (single or batched) passes through `tamper` before the client sees it. Everything else is
 * forwarded untouched. `tamper` can be swapped at any time.
 */
export async function startTamperingProxy(target: string) {
  const upstream = new URL(target);
  let tamper: Tamper = (_path, data) => data;
  const server = createServer((req, res) => {
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          let body = Buffer.concat(chunks);
          const url = new URL(req.url ?? "/", "http://proxy");
          if (url.pathname.startsWith("/trpc/") && (answer.headers["content-type"] ?? "").includes("application/json")) {
            const paths = decodeURIComponent(url.pathname.slice("/trpc/".length)).split(",");
            const parsed = JSON.parse(body.toString("utf8"));
            const results = Array.isArray(parsed) ? parsed : [parsed];
            results.forEach((r: any, i: number) => {
              if (r?.result && "data" in r.result) r.result.data = tamper(paths[i] ?? "", r.result.data);
            });
            body = Buffer.from(JSON.stringify(Array.isArray(parsed) ? results : results[0]));
          }
          const headers = { ...answer.headers, "content-length": String(body.length) };
          delete headers["transfer-encoding"];
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTamper(next: Tamper) {
      tamper = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
