/**
 * Baseline for RPC overhead: a bare Fastify route doing the work of `teams.mine` — verify the
 * bearer token (same HS256 key and claims), run the same query function, answer the same JSON
 * (the tRPC envelope included, so the bytes are identical) — and nothing else.
 */
import type { AddressInfo } from "node:net";
import { createDb, listTeamsOfUser } from "@osmynt/db";
import Fastify from "fastify";
import { jwtVerify } from "jose";
import { serve } from "../lib/serve.js";

const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const handle = await createDb({ url: process.env.DATABASE_URL, maxConnections: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
const app = Fastify({ logger: false });

app.get("/raw/teams.mine", async (request, reply) => {
  const token = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return reply.code(401).send({ error: "no token" });
  const { payload } = await jwtVerify(token, secret, { issuer: "osmynt", audience: "osmynt-api", algorithms: ["HS256"] });
  const teams = await listTeamsOfUser(handle.db, { userId: String(payload.sub) });
  const data = teams.map((team) => ({
    ...team,
    createdAt: team.createdAt.toISOString(),
    members: team.members.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() })),
  }));
  reply.header("content-type", "application/json");
  return JSON.stringify({ result: { data } });
});

await app.listen({ host: "127.0.0.1", port: 0 });
const { port } = app.server.address() as AddressInfo;
serve(`http://127.0.0.1:${port}`, {}, async () => {
  await app.close();
  await handle.close();
});
