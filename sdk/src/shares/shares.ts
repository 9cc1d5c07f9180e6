import { isTRPCClientError, type TRPCClient } from "@trpc/client";
import type { AppRouter } from "../app-router.js";
import { randomBytes } from "../crypto/bytes.js";
import { toBase64url } from "../crypto/encoding.js";
import { type DeviceLogState, forwardShare, openShare, ShareError, type ShareTarget, sealShare } from "../crypto/index.js";
import type { Devices } from "../devices/devices.js";
import type { EventStream } from "../event-stream.js";
import type { EventsOptions } from "../event-types.js";

/** What a share says: everything here travels inside the ciphertext; the server never sees it. */
export interface ShareContent {
  code: string;
  title: string;
  language?: string;
  path?: string;
  repo?: string;
  commit?: string;
  lineRange?: { start: number; end: number };
  fullFile?: boolean;
}

export type ShareCodeInput = ShareContent &
  ({ teamId: string; userId?: never } | { userId: string; teamId?: never }) & {
    /** When the share disappears for everyone (signed, so the server cannot extend it). */
    expiresAt?: Date | number;
  };

/** An opened share: its routing (as signed) and its content. */
export interface Share extends ShareContent {
  id: string;
  target: ShareTarget;
  authorId: string;
  authorDeviceId: string;
  createdAt: Date;
  expiresAt: Date | null;
  /** Worth telling the user, without making the share untrustworthy (for example a stale view of a revocation). */
  warnings: string[];
}

/** One item of `live()`: the share, or why it could not be opened (never wrong plaintext). */
export type LiveShare = { eventId: string; shareId: string } & ({ share: Share; error: null } | { share: null; error: unknown });

export type SharesClient = Pick<TRPCClient<AppRouter>, "shares"> & { events(options?: EventsOptions): EventStream };

function preconditionDetails(error: unknown): { missing: { userId: string; deviceId: string }[] } | null {
  if (!isTRPCClientError(error)) return null;
  const data = error.data as { code?: string; details?: { missing?: { userId: string; deviceId: string }[] } } | undefined;
  return data?.code === "PRECONDITION_FAILED" && data.details?.missing ? { missing: data.details.missing } : null;
}

function isNotFound(error: unknown): boolean {
  return isTRPCClientError(error) && (error.data as { code?: string } | undefined)?.code === "NOT_FOUND";
}

function decode(plaintext: Uint8Array): ShareContent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    throw new ShareError("malformed_envelope", "the decrypted share is not a share payload");
  }
  const c = parsed as Partial<ShareContent>;
  if (typeof c?.code !== "string" || typeof c.title !== "string")
    throw new ShareError("malformed_envelope", "the decrypted share has no code or title");
  return c as ShareContent;
}

/**
 * End-to-end encrypted shares on top of verified device logs (`createDevices`): `shareCode` seals
 * for every active device of the target (and this user's other devices), `openShare` verifies
 * everything before it decrypts, `live` yields shares as they arrive, `backfill` forwards old
 * shares to this user's newer devices.
 */
export function createShares(client: SharesClient, devices: Devices) {
  async function logsFor(target: ShareTarget): Promise<DeviceLogState[]> {
    if ("teamId" in target) return [...(await devices.teamLogs(target.teamId)).values()].map((l) => l.state);
    return [(await devices.logOf(target.userId)).state];
  }

  async function sealAndSend(target: ShareTarget, plaintext: Uint8Array, expiresAt: number | null) {
    const keys = await devices.internals.thisDevice();
    const mine = (await devices.myLog()).state;
    const recipients = await logsFor(target);
    const { envelope, wraps } = await sealShare({
      sender: { userId: mine.userId, keys, log: mine },
      target,
      shareId: `shr_${toBase64url(randomBytes(15))}`,
      recipients,
      plaintext,
      expiresAt,
    });
    const created = await client.shares.create.mutate({ target, envelope: envelope as never, recipients: wraps });
    return { created, recipients: [mine, ...recipients] };
  }

  async function open(id: string): Promise<Share> {
    const keys = await devices.internals.thisDevice();
    const got = await client.shares.get.query({ id, deviceId: keys.deviceId });
    if (!got.wrap)
      throw new ShareError("not_a_recipient", `share ${id} has no key for this device yet; another of your devices must backfill it`);
    const manifest = got.envelope.manifest as { senderUserId?: unknown };
    if (manifest.senderUserId !== got.authorId)
      throw new ShareError("wrong_sender", "the server names another author than the share's signature");
    const [me, sender, forwarder] = await Promise.all([
      devices.myLog(),
      devices.logOf(got.authorId),
      got.forward ? devices.logOf(String(got.forward.forwarderUserId)) : null,
    ]);
    const target: ShareTarget = got.teamId ? { teamId: got.teamId } : { userId: got.targetUserId as string };
    const opened = await openShare({
      envelope: got.envelope,
      wrap: got.wrap,
      me: { userId: me.state.userId, keys, log: me.state },
      senderLog: sender.state,
      expected: { shareId: id, target },
      ...(got.forward && forwarder ? { forward: { record: got.forward, forwarderLog: forwarder.state } } : {}),
    });
    const m = opened.manifest;
    return {
      ...decode(opened.plaintext),
      id: m.shareId,
      target: m.target,
      authorId: m.senderUserId,
      authorDeviceId: m.senderDeviceId,
      createdAt: new Date(m.createdAt),
      expiresAt: m.expiresAt === null ? null : new Date(m.expiresAt),
      warnings: opened.warnings,
    };
  }

  const api = {
    /**
     * Encrypts `code` and its context for a team or one teammate and uploads it. One content key,
     * wrapped for every active device in the verified logs of the recipients and of this user. When
     * the server answers that the device set changed (PRECONDITION_FAILED), the logs are fetched
     * and verified again and the share sealed once more; a device the server says is missing must
     * then be in the verified logs, or the share is not sent.
     */
    async shareCode(input: ShareCodeInput): Promise<{ id: string; createdAt: string; expiresAt: string | null }> {
      const { teamId, userId, expiresAt, ...content } = input;
      if ((teamId === undefined) === (userId === undefined)) throw new TypeError("shareCode: pass exactly one of teamId or userId");
      const target: ShareTarget = teamId !== undefined ? { teamId } : { userId: userId as string };
      const plaintext = new TextEncoder().encode(JSON.stringify(content));
      const expiry = expiresAt === undefined ? null : new Date(expiresAt).getTime();
      try {
        return (await sealAndSend(target, plaintext, expiry)).created;
      } catch (error) {
        const diff = preconditionDetails(error);
        if (!diff) throw error;
        const retry = await sealAndSend(target, plaintext, expiry).catch((again: unknown) => {
          throw again;
        });
        const known = new Set(retry.recipients.flatMap((log) => log.devices.map((d) => `${log.userId}\n${d.deviceId}`)));
        const unknown = diff.missing.filter((d) => !known.has(`${d.userId}\n${d.deviceId}`));
        if (unknown.length > 0)
          throw new ShareError(
            "no_recipients",
            `the server asked for devices that no verified device log holds: ${unknown.map((d) => d.deviceId).join(", ")}`,
          );
        return retry.created;
      }
    },

    /** Fetches, verifies (signature, sender's log, key commitment, bindings) and decrypts one share. */
    openShare: open,

    /**
     * Shares as they arrive, decrypted on this device, in event order: `share.created`, and
     * `share.recipientsAdded` when a backfill brings this device a key. Resumable like `events()`:
     * pass the last `eventId` as `lastEventId`. A share that cannot be opened is yielded with its
     * error (and no content); one deleted or expired before it was fetched is skipped.
     * `onReady` is called once the server has confirmed the subscription: from then on nothing
     * shared is missed, even without a cursor.
     */
    async *live(options: EventsOptions & { onReady?: () => void } = {}): AsyncGenerator<LiveShare> {
      const { onReady, ...eventsOptions } = options;
      const me = await devices.internals.thisDevice();
      const stream = client.events(eventsOptions);
      if (onReady) void stream.ready.then(onReady);
      for await (const event of stream) {
        const payload = event.payload as { shareId?: unknown; devices?: { userId: string; deviceId: string }[] };
        const forMe =
          event.type === "share.created" ||
          (event.type === "share.recipientsAdded" && (payload.devices ?? []).some((d) => d.deviceId === me.deviceId));
        if (!forMe || typeof payload.shareId !== "string") continue;
        try {
          yield { eventId: event.id, shareId: payload.shareId, share: await open(payload.shareId), error: null };
        } catch (error) {
          if (isNotFound(error)) continue;
          if (error instanceof ShareError && error.reason === "not_a_recipient") continue;
          yield { eventId: event.id, shareId: payload.shareId, share: null, error };
        }
      }
    },

    /**
     * Run on a device that can read old shares (the one that approved a new device): forwards the
     * key of every share it holds to this user's active devices that hold none, with a signed
     * forward record. Returns how many shares were forwarded.
     */
    async backfill(): Promise<number> {
      const keys = await devices.internals.thisDevice();
      let cursor: string | null = null;
      let done = 0;
      do {
        const page: { ids: string[]; nextCursor: string | null } = await client.shares.needingForward.query({
          deviceId: keys.deviceId,
          cursor,
        });
        for (const id of page.ids) {
          const got = await client.shares.get.query({ id, deviceId: keys.deviceId });
          const [me, sender, forwarder] = await Promise.all([
            devices.myLog(),
            devices.logOf(got.authorId),
            got.forward ? devices.logOf(String(got.forward.forwarderUserId)) : null,
          ]);
          const { forward, wraps } = await forwardShare({
            envelope: got.envelope,
            wrap: got.wrap,
            me: { userId: me.state.userId, keys, log: me.state },
            senderLog: sender.state,
            expected: { shareId: id },
            to: [me.state],
            ...(got.forward && forwarder ? { forward: { record: got.forward, forwarderLog: forwarder.state } } : {}),
          });
          await client.shares.addRecipients.mutate({ id, forward: forward as never, recipients: wraps });
          done++;
        }
        cursor = page.nextCursor;
      } while (cursor);
      return done;
    },
  };
  // A device that approves a new one forwards its shares to it at once (approveNewDevice runs this).
  // Keyed, so calling createShares again on the same devices (the latest wins) forwards once, not twice.
  devices.internals.afterApprove.set("shares.backfill", () => api.backfill());
  return api;
}

export type Shares = ReturnType<typeof createShares>;
