import type { Command } from "commander";
import { findDevice } from "../crypto/index.js";
import { type Context, defaultDeviceName, deviceKeyName, signedIn } from "./context.js";
import { CliError, classify, ExitCode } from "./exit-codes.js";
import { resolveUser } from "./resolve.js";

const groupCode = (code: string) => code.replace(/\D/g, "").replace(/^(\d{4})(\d{4})$/, "$1 $2");

/** A new device must not reuse keys its account revoked: those are dropped before pairing again. */
async function dropRevokedKeys(ctx: Context): Promise<void> {
  const keys = await ctx.devices.thisDevice();
  if (!keys) return;
  const mine = await ctx.client.keys.mine.query();
  const record = mine.devices.find((d) => d.deviceId === keys.deviceId);
  if (record?.status === "active")
    throw new CliError(ExitCode.conflict, `this device (${keys.deviceId}) already is an active device of your account`);
  if (record) await ctx.keyStore.delete(deviceKeyName(ctx.session.user.id));
}

export function registerDevicesCommands(program: Command): void {
  const devices = program
    .command("devices")
    .description("your devices and your teammates' keys: list, pair, approve, revoke, rotate, fingerprint, safety-number, verify");

  devices
    .command("list")
    .description("your devices, from your verified device log")
    .action((_o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const { state } = await ctx.devices.myLog();
        const current = (await ctx.devices.thisDevice())?.deviceId ?? null;
        const list = state.devices.map((d) => ({
          deviceId: d.deviceId,
          kind: d.kind,
          name: d.name,
          status: d.status,
          thisDevice: d.deviceId === current,
          addedAtSeq: d.addedAt,
          revokedAtSeq: d.revokedAt,
        }));
        ctx.out.result({ fingerprint: state.fingerprint, devices: list }, () =>
          [
            `fingerprint ${state.fingerprint}`,
            ...list.map(
              (d) =>
                `${d.deviceId}  ${d.kind === "recovery" ? "(recovery key)" : d.name || "(unnamed)"}  ${d.status}${d.thisDevice ? "  ← this device" : ""}`,
            ),
          ].join("\n"),
        );
      }),
    );

  devices
    .command("pair")
    .description("on a NEW device: ask to join your account; approve it on a device you already use")
    .option("--name <name>", "this device's name", defaultDeviceName())
    .option("--timeout <seconds>", "give up after this long", "300")
    .action((options: { name: string; timeout: string }, command: Command) =>
      signedIn(command, async (ctx) => {
        const mine = await ctx.client.keys.mine.query();
        if (mine.links.length === 0) {
          const { deviceId } = await ctx.ensureDevice();
          ctx.out.result(
            { deviceId, registered: true, paired: false },
            `Your account had no device: this one (${deviceId}) is now its first`,
          );
          return;
        }
        await dropRevokedKeys(ctx);
        const paired = await ctx.devices.pairNewDevice({
          name: options.name,
          timeoutMs: Number(options.timeout) * 1000,
          showCode: (code) =>
            ctx.out.note(
              `Pairing code: ${groupCode(code)}\nOn a device you already use, run: osmynt devices approve   and type this code there.`,
            ),
        });
        ctx.out.result(
          { ...paired, registered: false, paired: true },
          `Paired: this device (${paired.deviceId}) is now one of your devices`,
        );
      }),
    );

  devices
    .command("approve")
    .description("on a device you already use: approve a new device that runs `osmynt devices pair`")
    .option("--pairing <id>", "the pairing to answer (default: the first request to arrive)")
    .option("--timeout <seconds>", "give up after this long", "300")
    .addHelpText(
      "after",
      "\nThe code the new device shows is asked for once it appears; without a terminal it is read from stdin (one line).",
    )
    .action((options: { pairing?: string; timeout: string }, command: Command) =>
      signedIn(command, async (ctx) => {
        await ctx.ensureDevice();
        const approved = await ctx.devices.approveNewDevice({
          ...(options.pairing ? { pairingId: options.pairing } : {}),
          timeoutMs: Number(options.timeout) * 1000,
          enterCode: async ({ deviceId, name }) => {
            ctx.out.note(`New device ${deviceId}${name ? ` "${name}"` : ""} asks to join your account.`);
            return ctx.out.ask("Type the code the new device shows", "pipe it on stdin");
          },
        });
        // The SDK forwards this device's shares to the new one once it is in the log.
        const { backfillError, ...result } = approved;
        if (backfillError)
          ctx.out.note(`Warning: forwarding your older shares to the new device failed: ${classify(backfillError).message}`);
        ctx.out.result(
          result,
          `Approved device ${result.deviceId}${result.forwarded ? `; forwarded ${result.forwarded} share(s) to it` : ""}`,
        );
      }),
    );

  devices
    .command("revoke <deviceId>")
    .description("revoke one of your devices (signed by this one); it can no longer read new shares")
    .action((deviceId: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        await ctx.ensureDevice();
        const state = await ctx.devices.revoke(deviceId);
        ctx.out.result({ deviceId, revoked: true, head: state.head }, `Revoked ${deviceId}`);
      }),
    );

  devices
    .command("rotate")
    .description("give this device a new encryption key")
    .action((_o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const { deviceId } = await ctx.ensureDevice();
        const state = await ctx.devices.rotate();
        const kemKeyId = findDevice(state, deviceId)?.kemKeyId ?? null;
        ctx.out.result({ deviceId, kemKeyId }, `New encryption key ${kemKeyId} for this device (${deviceId})`);
      }),
    );

  devices
    .command("fingerprint")
    .description("your account's fingerprint (it changes only if your identity is replaced)")
    .action((_o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const { state } = await ctx.devices.myLog();
        const deviceId = (await ctx.devices.thisDevice())?.deviceId ?? null;
        ctx.out.result({ userId: state.userId, fingerprint: state.fingerprint, deviceId }, state.fingerprint);
      }),
    );

  devices
    .command("safety-number <user>")
    .description("the 60-digit number you and <user> (login or id) compare out of band")
    .action((ref: string, _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const user = await resolveUser(ctx, ref);
        const number = await ctx.devices.safetyNumberWith(user.id);
        const pin = await ctx.devices.pinOf(user.id);
        ctx.out.result({ userId: user.id, login: user.login, safetyNumber: number, verified: pin?.verified ?? false }, () =>
          [
            `Safety number with ${user.login}:`,
            `  ${number}`,
            pin?.verified ? "(verified)" : `Compare it with them, then: osmynt devices verify ${user.login} '<number>'`,
          ].join("\n"),
        );
      }),
    );

  devices
    .command("verify <user> [safetyNumber...]")
    .description("mark <user> verified when the safety number they read you matches")
    .action((ref: string, digits: string[], _o: unknown, command: Command) =>
      signedIn(command, async (ctx) => {
        const user = await resolveUser(ctx, ref);
        const typed =
          digits.length > 0 ? digits.join(" ") : await ctx.out.ask(`Safety number ${user.login} reads to you`, "pass it as an argument");
        const pin = await ctx.devices.verifyUser(user.id, typed);
        ctx.out.result(
          { userId: user.id, login: user.login, verified: pin.verified, fingerprint: pin.fingerprint },
          `Verified ${user.login}`,
        );
      }),
    );
}
