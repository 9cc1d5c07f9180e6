import { randomBytes } from "node:crypto";
import { createHandshake, hashToken } from "@osmynt/db";
import { generateDeviceKeys, toBase64url } from "@osmynt/sdk/crypto";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import type { TestServer } from "../helpers/server.js";
import { type Device, join, ok } from "../shares/helpers.js";
import { buildWorld, type World } from "./world.js";

/**
 * The fuzz battery's world: the matrix's team, people, devices and share, plus what keys.* and
 * shares.* need for a valid input to reach their deep checks: a second team
 * of the owner's to spend (delete, transfer, remove), a second session of the owner (the other
 * side of a pairing) and a live handshake. Every fuzz call is made by `owner`.
 */
export interface FuzzWorld extends World {
  ownerDevice: Device;
  memberDevice: Device;
  /** A team of the owner's with `target` in it, for the calls that spend a team. */
  spareTeamId: string;
  /** Another session of the owner: the other side of a pairing. */
  ownerOther: TestSession;
  handshake: { handshakeId: string; retrievalSecret: string };
  /** Pairings opened for the batteries (closed before the next one: a user may have 3 open). */
  pairings: string[];
}

export async function buildFuzzWorld(server: TestServer): Promise<FuzzWorld> {
  const t0 = Date.now();
  const log = (what: string) => process.env.FUZZ_VERBOSE && console.log(`fuzz world: ${what} at ${Date.now() - t0} ms`);
  const world = await buildWorld(server);
  log("people");
  const ownerDevice = world.devices.owner;
  const memberDevice = world.devices.member;
  const spare = await ok(rawCall(server, "teams.create", { input: { name: `spare ${randomLogin("t")}` }, token: world.owner.accessToken }));
  await join(server, spare.id, world.owner, world.target);
  log("spare team");
  const ownerOther = await signUp(server, world.owner.user.login);
  const retrievalSecret = `osh_${randomBytes(32).toString("base64url")}`;
  const { id: handshakeId } = await createHandshake(server.deps.db, {
    publicKey: (await generateDeviceKeys()).kemPublicKey as string,
    retrievalSecretHash: hashToken(retrievalSecret),
    ttlMs: 3_600_000,
  });
  return {
    ...world,
    ownerDevice,
    memberDevice,
    spareTeamId: spare.id,
    ownerOther,
    handshake: { handshakeId, retrievalSecret },
    pairings: [],
  };
}

const call = (w: FuzzWorld, path: string, who: TestSession, input?: unknown) =>
  rawCall(w.server, path, {
    input,
    token: who.accessToken,
    kind: path.endsWith(".get") || path.endsWith(".pending") ? "query" : "mutation",
  });

/** A new device's pairing request (fresh keys; the commitment is opaque to the relay). */
export async function pairingRequest() {
  const n = await generateDeviceKeys();
  return {
    transactionId: toBase64url(randomBytes(16)),
    deviceId: n.deviceId,
    name: "fuzzed laptop",
    signingKey: n.signingPublicKey,
    kemKey: n.kemPublicKey as string,
    commitment: toBase64url(randomBytes(32)),
  };
}

export const point = async () => (await generateDeviceKeys()).kemPublicKey as string;

/** Aborts every open pairing of the owner (the ones made here and any a fuzz case opened). */
export async function closePairings(w: FuzzWorld): Promise<void> {
  const pending = await ok(call(w, "keys.pairing.pending", w.owner));
  const ids = new Set([...w.pairings, ...pending.pairings.map((p: { pairingId: string }) => p.pairingId)]);
  for (const pairingId of ids) await call(w, "keys.pairing.abort", w.owner, { pairingId, reason: "cancelled" });
  w.pairings.length = 0;
}

/**
 * A pairing of the owner's, advanced to `step` (the status after it). The new device's side is
 * `newSide` (the owner's fuzzing session or their other one); the existing device's side is the
 * other session, answering with the owner's registered device.
 */
export async function pairingAt(
  w: FuzzWorld,
  step: "initiated" | "responded" | "revealed",
  newSide: "owner" | "ownerOther",
): Promise<string> {
  await closePairings(w);
  const newcomer = newSide === "owner" ? w.owner : w.ownerOther;
  const existing = newSide === "owner" ? w.ownerOther : w.owner;
  const p = await ok(call(w, "keys.pairing.init", newcomer, await pairingRequest()));
  w.pairings.push(p.pairingId);
  if (step === "initiated") return p.pairingId;
  await ok(
    call(w, "keys.pairing.respond", existing, {
      pairingId: p.pairingId,
      deviceId: w.ownerDevice.keys.deviceId,
      ephemeralKey: await point(),
    }),
  );
  if (step === "responded") return p.pairingId;
  await ok(call(w, "keys.pairing.reveal", newcomer, { pairingId: p.pairingId, ephemeralKey: await point() }));
  return p.pairingId;
}
