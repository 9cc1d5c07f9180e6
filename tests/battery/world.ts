import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { TEST_JWT_SECRET, type TestServer } from "../helpers/server.js";
import { resignAccessToken, sessionIdOf } from "../helpers/tokens.js";

/**
 * Who calls, in the authorization matrix. The session actors hold a token that the server must
 * refuse; the others are signed in and differ by their place in the world's team.
 * Device actors (`activeDevice`, `revokedDevice`, `otherUsersDevice`) are reserved for keys.* and
 * shares.*: a world builds them once devices can be made in tests (see `deviceActors` below).
 */
export const sessionActors = ["anonymous", "expiredToken", "revokedSession"] as const;
export const teamActors = ["otherUser", "nonMember", "member", "admin", "owner"] as const;
export const deviceActorNames = ["activeDevice", "revokedDevice", "otherUsersDevice"] as const;
export const baseActors = [...sessionActors, ...teamActors] as const;
export type Actor = (typeof baseActors)[number] | (typeof deviceActorNames)[number];

export interface World {
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
  return {
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
  };
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
      return deviceActors(world, actor);
  }
}

/**
 * Device actors: a signed-in user calling as one of their devices. Until keys.* tests can make
 * devices here, a table entry that lists a device actor fails loudly rather than passing unseen.
 */
function deviceActors(_world: World, actor: Actor): never {
  throw new Error(`the matrix world cannot make the device actor ${actor} yet: build it in tests/battery/world.ts`);
}
