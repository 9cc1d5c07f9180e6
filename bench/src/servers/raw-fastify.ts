/**
 * Baseline for RPC overhead: bare Fastify routes doing the work of `teams.mine` and
 * `shares.listTeam` — verify the bearer token (same HS256 key and claims), run the same query
 * functions, answer the same JSON (the tRPC envelope included, so the bytes are identical) — and
 * nothing else.
 */
import type { AddressInfo } from "node:net";
import { createDb, explainTeamAccess, listTeamShares, listTeamsOfUser } from "@osmynt/db";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { jwtVerify } from "jose";
import { serve } from "../lib/serve.js";

const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const handle = await createDb({ url: process.env.DATABASE_URL, maxConnections: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
const app = Fastify({ logger: false });

async function userOf(request: FastifyRequest, reply: FastifyReply): Promise<string | null> {
  const token = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) {
    reply.code(401).send({ error: "no token" });
    return null;
  }
  const { payload } = await jwtVerify(token, secret, { issuer: "osmynt", audience: "osmynt-api", algorithms: ["HS256"] });
  return String(payload.sub);
}

const answer = (reply: FastifyReply, data: unknown) => {
  reply.header("content-type", "application/json");
  return JSON.stringify({ result: { data } });
};
const iso = (d: Date | null) => (d ? d.toISOString() : null);

app.get("/raw/teams.mine", async (request, reply) => {
  const userId = await userOf(request, reply);
  if (!userId) return;
  const teams = await listTeamsOfUser(handle.db, { userId });
  return answer(
    reply,
    teams.map((team) => ({
      ...team,
      createdAt: team.createdAt.toISOString(),
      members: team.members.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() })),
    })),
  );
});

/** `?teamId=…&limit=…&cursor=…`: the page `shares.listTeam` answers, in the order of its output schema. */
app.get("/raw/shares.listTeam", async (request, reply) => {
  const userId = await userOf(request, reply);
  if (!userId) return;
  const q = request.query as { teamId: string; limit?: string; cursor?: string };
  await explainTeamAccess(handle.db, { teamId: q.teamId, userId, permission: "view" });
  const page = await listTeamShares(handle.db, {
    teamId: q.teamId,
    userId,
    limit: Number(q.limit ?? 50),
    cursor: q.cursor ? Number(q.cursor) : null,
  });
  return answer(reply, {
    items: page.items.map((h) => ({
      id: h.id,
      teamId: h.teamId,
      targetUserId: h.targetUserId,
      authorId: h.authorId,
      authorDeviceId: h.authorDeviceId,
      createdAt: h.createdAt.toISOString(),
      expiresAt: iso(h.expiresAt),
      ciphertextBytes: h.ciphertextBytes,
      unread: h.unread,
    })),
    nextCursor: page.nextCursor,
  });
});

await app.listen({ host: "127.0.0.1", port: 0 });
const { port } = app.server.address() as AddressInfo;
serve(`http://127.0.0.1:${port}`, {}, async () => {
  await app.close();
  await handle.close();
});
