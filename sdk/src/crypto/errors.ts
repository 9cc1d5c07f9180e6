/**
 * One error family for the crypto core. Every failure carries a `reason` code a program can
 * switch on and a message a person can read; callers never get wrong plaintext or a half-checked
 * value instead of an error.
 */
export class CryptoError<R extends string = string> extends Error {
  override readonly name: string = "CryptoError";
  constructor(
    readonly reason: R,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type KeyErrorReason = "malformed_key" | "wrong_curve" | "not_on_curve" | "wrong_key_type";

/** A public or private key that cannot be used: not P-256, not on the curve, malformed. */
export class KeyError extends CryptoError<KeyErrorReason> {
  override readonly name = "KeyError";
}

export type DeviceLogErrorReason =
  | "empty_log"
  | "malformed_link"
  | "unsupported_version"
  | "unsupported_suite"
  | "wrong_user"
  | "wrong_seq"
  | "wrong_prev"
  | "not_root"
  | "duplicate_root"
  | "bad_key"
  | "bad_signature"
  | "bad_reverse_signature"
  | "unknown_signer"
  | "revoked_signer"
  | "signer_not_allowed"
  | "duplicate_device"
  | "duplicate_key"
  | "unknown_device"
  | "already_revoked"
  | "last_device"
  | "recovery_exists"
  | "same_kem_key"
  | "rolled_back"
  | "forked"
  | "fingerprint_changed";

/**
 * A device log (or one link of it) that does not verify. `seq` is the failing link's position;
 * `deviceId` the device it concerns, when there is one.
 */
export class DeviceLogError extends CryptoError<DeviceLogErrorReason> {
  override readonly name = "DeviceLogError";
  readonly seq: number | undefined;
  readonly deviceId: string | undefined;
  readonly userId: string | undefined;
  constructor(
    reason: DeviceLogErrorReason,
    message: string,
    details: { seq?: number; deviceId?: string; userId?: string; cause?: unknown } = {},
  ) {
    super(reason, message, { cause: details.cause });
    this.seq = details.seq;
    this.deviceId = details.deviceId;
    this.userId = details.userId;
  }
}

export type ShareErrorReason =
  | "malformed_envelope"
  | "unsupported_version"
  | "unsupported_suite"
  | "wrong_share"
  | "wrong_target"
  | "wrong_sender"
  | "unknown_sender_device"
  | "sender_revoked"
  | "sender_key_mismatch"
  | "stale_sender_log"
  | "sender_log_forked"
  | "bad_signature"
  | "not_a_recipient"
  | "wrong_kem_key"
  | "unknown_own_device"
  | "stale_own_log"
  | "wrap_mismatch"
  | "ciphertext_mismatch"
  | "unwrap_failed"
  | "key_commitment_mismatch"
  | "decrypt_failed"
  | "bad_padding"
  | "bad_forward"
  | "no_recipients";

/**
 * A share that cannot be sealed, or that does not open as exactly what its sender signed: the
 * caller gets this, never plaintext that was changed, re-targeted or sent by someone else.
 */
export class ShareError extends CryptoError<ShareErrorReason> {
  override readonly name = "ShareError";
}

export type PairingErrorReason = "malformed_message" | "wrong_transaction" | "commitment_mismatch" | "bad_mac" | "code_mismatch";

/** A pairing that must be aborted: a relay that changed a message, a wrong code, a replay. */
export class PairingError extends CryptoError<PairingErrorReason> {
  override readonly name = "PairingError";
}

export type RecoveryErrorReason = "malformed_code" | "code_typo" | "not_this_account";

/** A recovery code that is mistyped, malformed, or not the one this account's log records. */
export class RecoveryError extends CryptoError<RecoveryErrorReason> {
  override readonly name = "RecoveryError";
}
