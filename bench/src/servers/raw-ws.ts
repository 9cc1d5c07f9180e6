/**
 * Baseline for fan-out and idle subscriptions: a bare `ws` server that broadcasts. Each published
 * event is serialized once, in the same tRPC message shape the engine sends (so clients parse the
 * same bytes), and written to every open socket. It keeps nothing per socket but the socket.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { serve } from "../lib/serve.js";

let nextId = 1;
const http = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/publish") {
    req.resume();
    req.on("end", () => {
      const id = String(nextId++);
      const event = {
        id,
        type: "team.renamed",
        teamId: "team_raw",
        userId: null,
        payload: { teamId: "team_raw" },
        createdAt: new Date().toISOString(),
      };
      const message = JSON.stringify({ id: 1, result: { type: "data", data: { id, data: event }, id } });
      for (const client of wss.clients) client.send(message);
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    return;
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, path: "/trpc" });
wss.on("connection", (socket) => {
  socket.send(JSON.stringify({ id: 1, result: { type: "started" } }));
});
http.listen(0, "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  serve(`http://127.0.0.1:${port}`);
});
