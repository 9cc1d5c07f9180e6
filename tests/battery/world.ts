import { schema } from "@osmynt/db";
import { createRevokeLink } from "@osmynt/sdk/crypto";
import { and, eq } from "drizzle-orm";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { TEST_JWT_SECRET, type TestServer } from "../helpers/server.js";
import { resignAccessToken, sessionIdOf } from "../helpers/tokens.js";
import { addDevice, type Device, firstDevice, logOf, share } from "../shares/helpers.js";

/**
 * Who calls, in the authorization matrix. The session actors hold a token that the server must
 * refuse; the others are signed in and differ by their place in the world's team.
 * Device actors (keys.* and shares.*) are the world's `member` calling as one device: their own
 * active one (`activeDevice`), their own revoked one (`revokedDevice`), or another user's, the
 * owner's (`otherUsersDevice`). `deviceOf` says which device an actor acts as.
 */
export const sessionActors = ["anonymous", "expiredToken", "revokedSession"] as const;
export const teamActors = ["otherUser", "nonMember", "member", "admin", "owner"] as const;
export const deviceActorNames = ["activeDevice", "revokedDevice", "otherUsersDevice"] as const;
export const baseActors = [...sessionActors, ...teamActors] as const;
export type Actor = (typeof baseActors)[number] | (typeof deviceActorNames)[number];

export interface World {
  server: TestServer;
  teamId: string;
  owner: TestSession;
  admin: TestSession;
  member: TestSession;
  /** A second plain member: the target of actions on members. */
  target: TestSession;
  /** Signed in, in no team of this world. */
  nonMember: TestSession;
  /** Signed in, owner of a team of their own (`otherTeamId`): a stranger with standing elsewhere. */
  otherUser: TestSession;
  otherTeamId: string;
  /** An invite of the world's team (role member, many uses) and its token. */
  inviteId: string;
  inviteToken: string;
  /** A second session of the owner, to revoke. */
  ownerSecondSessionId: string;
  expiredToken: string;
  revokedToken: string;
  /** Every signed-in person's registered first device (real keys, held by the test). */
  devices: Record<(typeof teamActors)[number], Device>;
  /** The member's second device, revoked after `shareId` was sealed for it. */
  memberRevoked: Device;
  /** The wrap `shareId` had for it, read before the revocation deleted it (a forward it might sign). */
  memberRevokedWrap: { userId: string; deviceId: string; kemKeyId: string; enc: string; wrappedKey: string };
  /** A team share by the owner's device, sealed for every device of the team then active. */
  shareId: string;
  /** A second session of the member: the other side of a pairing. */
  memberOther: TestSession;
}

async function ok(server: TestServer, path: string, token: string, input?: unknown, kind: "query" | "mutation" = "mutation") {
  const response = await rawCall(server, path, { kind, input, token });
  if (response.status !== 200) throw new Error(`${path} failed while building the world: ${JSON.stringify(response.body)}`);
  return response.body.result.data;
}

/** A fresh team with one user per role, plus strangers, an invite and bad tokens: new users every time. */
export async function buildWorld(server: TestServer): Promise<World> {
  const [owner, admin, member, target, nonMember, otherUser] = (await Promise.all(
    ["own", "adm", "mem", "tgt", "non", "oth"].map((p) => signUp(server, randomLogin(p))),
  )) as [TestSession, TestSession, TestSession, TestSession, TestSession, TestSession];
  const team = await ok(server, "teams.create", owner.accessToken, { name: `matrix ${randomLogin("t")}` });
  const other = await ok(server, "teams.create", otherUser.accessToken, { name: `other ${randomLogin("t")}` });
  for (const [who, role] of [
    [admin, "admin"],
    [member, "member"],
    [target, "member"],
  ] as const) {
    const invite = await ok(server, "teams.invites.create", owner.accessToken, { teamId: team.id, role });
    await ok(server, "teams.invites.accept", who.accessToken, { token: invite.token });
  }
  const invite = await ok(server, "teams.invites.create", owner.accessToken, { teamId: team.id, maxUses: 100 });
  const second = await signUp(server, owner.user.login);
  const gone = await signUp(server, owner.user.login);
  await ok(server, "auth.logout", gone.accessToken);
  const past = Math.floor(Date.now() / 1000) - 60;
  const people = { owner, admin, member, nonMember, otherUser };
  const devices = Object.fromEntries(
    await Promise.all(Object.entries(people).map(async ([name, session]) => [name, await firstDevice(server, session)] as const)),
  ) as Record<(typeof teamActors)[number], Device>;
  const memberRevoked = await addDevice(server, devices.member);
  const shareId = await share(server, devices.owner, { teamId: team.id }, { code: "matrix()", title: "matrix" });
  const { shareRecipients: r } = schema;
  const [memberRevokedWrap] = await server.deps.db
    .select({ userId: r.userId, deviceId: r.deviceId, kemKeyId: r.kemKeyId, enc: r.enc, wrappedKey: r.wrappedKey })
    .from(r)
    .where(and(eq(r.shareId, shareId), eq(r.deviceId, memberRevoked.keys.deviceId)));
  if (!memberRevokedWrap) throw new Error("the world's share was not sealed for the member's second device");
  await ok(server, "keys.revoke", member.accessToken, {
    link: await createRevokeLink(await logOf(server, member, member.user.id), devices.member.keys, memberRevoked.keys.deviceId),
  });
  return {
    server,
    teamId: team.id,
    owner,
    admin,
    member,
    target,
    nonMember,
    otherUser,
    otherTeamId: other.id,
    inviteId: invite.inviteId,
    inviteToken: invite.token,
    ownerSecondSessionId: sessionIdOf(second.accessToken),
    expiredToken: await resignAccessToken(owner.accessToken, { secret: TEST_JWT_SECRET, exp: past, iat: past - 900 }),
    revokedToken: gone.accessToken,
    devices,
    memberRevoked,
    memberRevokedWrap,
    shareId,
    memberOther: await signUp(server, member.user.login),
  };
}

/**
 * The device an actor acts as: a device actor's own (see above); a signed-in person's first
 * device; for the session actors, the owner's (their calls are refused before it matters).
 */
export function deviceOf(world: World, actor: Actor): Device {
  switch (actor) {
    case "activeDevice":
      return world.devices.member;
    case "revokedDevice":
      return world.memberRevoked;
    case "otherUsersDevice":
      return world.devices.owner;
    case "otherUser":
    case "nonMember":
    case "member":
    case "admin":
    case "owner":
      return world.devices[actor];
    default:
      return world.devices.owner;
  }
}

/** Whose session an actor calls with (device actors: the member's). */
export function sessionOf(world: World, actor: Actor): TestSession {
  return (deviceActorNames as readonly string[]).includes(actor)
    ? world.member
    : world[(teamActors as readonly string[]).includes(actor) ? (actor as (typeof teamActors)[number]) : "owner"];
}

/** The bearer token an actor calls with (undefined: none). */
export function tokenOf(world: World, actor: Actor): string | undefined {
  switch (actor) {
    case "anonymous":
      return undefined;
    case "expiredToken":
      return world.expiredToken;
    case "revokedSession":
      return world.revokedToken;
    case "otherUser":
    case "nonMember":
    case "member":
    case "admin":
    case "owner":
      return world[actor].accessToken;
    default:
      // device actors call with their user's (the member's) token
      return world.member.accessToken;
  }
}
