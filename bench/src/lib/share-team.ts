import { randomBytes } from "node:crypto";
import {
  createAddDeviceLink,
  createRootLink,
  type DeviceKeys,
  type DeviceLogState,
  generateDeviceKeys,
  sealShare,
  verifyDeviceLog,
} from "@osmynt/sdk/crypto";
import { type BenchUser, call, pool, signUp } from "./engine-client.js";

export interface ShareMember {
  user: BenchUser;
  devices: DeviceKeys[];
}

/** What `shares.create` takes: an envelope sealed by the author's first device for every recipient. */
export interface SealedShare {
  target: { teamId: string };
  envelope: Awaited<ReturnType<typeof sealShare>>["envelope"];
  recipients: Awaited<ReturnType<typeof sealShare>>["wraps"];
}

export interface ShareTeam {
  teamId: string;
  members: ShareMember[];
  /** members[0], who seals and creates. */
  author: ShareMember;
  /** The author's device sealing every share. */
  authorDeviceId: string;
  /** A fresh share (new id, so the engine accepts it) sealed for every device of the team. */
  sealOne(): Promise<SealedShare>;
}

/** Registers a first device and adds the rest, signed by it, through the real keys.* procedures. */
async function withDevices(url: string, user: BenchUser, devicesPerUser: number): Promise<ShareMember> {
  const devices = await Promise.all(Array.from({ length: devicesPerUser }, () => generateDeviceKeys()));
  const [first, ...rest] = devices as [DeviceKeys, ...DeviceKeys[]];
  await call(url, "keys.register", { link: await createRootLink(user.id, first, { name: "bench 0" }) }, user.token);
  for (const [i, device] of rest.entries()) {
    const mine = await call(url, "keys.mine", undefined, user.token, "query");
    const state = await verifyDeviceLog(mine.links, { userId: user.id });
    await call(url, "keys.addDevice", { link: await createAddDeviceLink(state, first, device, { name: `bench ${i + 1}` }) }, user.token);
  }
  return { user, devices };
}

export const newShareId = () => `shr_${randomBytes(15).toString("base64url")}`;

/**
 * A team of `users` members with `devicesPerUser` devices each, built through the real procedures
 * (sign-up, invite, device registration), and a sealer of shares for it. Client-side crypto is
 * done here, before anything is timed.
 */
export async function seedShareTeam(url: string, users: number, devicesPerUser: number): Promise<ShareTeam> {
  const accounts = await pool(
    Array.from({ length: users }, (_, i) => i),
    users,
    (i) => signUp(url, `sharer-${i}-${randomBytes(3).toString("hex")}`),
  );
  const [owner, ...others] = accounts as [BenchUser, ...BenchUser[]];
  const team = await call(url, "teams.create", { name: "bench shares" }, owner.token);
  const invite = await call(url, "teams.invites.create", { teamId: team.id, maxUses: Math.max(1, others.length) }, owner.token);
  for (const u of others) await call(url, "teams.invites.accept", { token: invite.token }, u.token);
  const members = await pool(accounts, users, (u) => withDevices(url, u, devicesPerUser));
  const author = members[0] as ShareMember;
  const forTeam = await call(url, "keys.forTeam", { teamId: team.id }, owner.token, "query");
  const logs: DeviceLogState[] = await Promise.all(
    forTeam.members.map((m: { userId: string; links: unknown[] }) => verifyDeviceLog(m.links, { userId: m.userId })),
  );
  const authorLog = logs.find((l) => l.userId === author.user.id) as DeviceLogState;
  const sender = { userId: author.user.id, keys: author.devices[0] as DeviceKeys, log: authorLog };
  const plaintext = new TextEncoder().encode(JSON.stringify({ title: "bench", code: "x".repeat(1000) }));
  return {
    teamId: team.id,
    members,
    author,
    authorDeviceId: sender.keys.deviceId,
    async sealOne() {
      const sealed = await sealShare({ sender, target: { teamId: team.id }, shareId: newShareId(), recipients: logs, plaintext });
      return { target: { teamId: team.id }, envelope: sealed.envelope, recipients: sealed.wraps };
    },
  };
}
