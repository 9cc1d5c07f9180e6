/**
 * @osmynt/sdk/crypto — the one crypto core of Osmynt (suite SNIP1-P256, crypto.md §8), on Web
 * Crypto only, so the same code runs in Node, browsers and VS Code's extension host. The server
 * imports it too (it verifies every device-log append with `verifyLink`). Nothing here imports
 * Node modules; the Node file key store is `@osmynt/sdk/crypto/file-key-store`.
 *
 * Device keys
 *   generateDeviceKeys()                     → DeviceKeys (non-extractable, this process only)
 *   createDeviceKeys(store, { deviceId?, name? }) / loadDeviceKeys(store, name?)
 *                                            → keys kept in a KeyStore as PKCS#8, used non-extractable
 *   generateKemKey() + replaceStoredKemKey() → a new HPKE key for rotate_kem
 *   importPublicKey(b64, "signing" | "kem")  → CryptoKey; KeyError reason malformed_key |
 *                                              wrong_curve | not_on_curve
 *   kemKeyId(kemPublicKey)                   → the derived id of an HPKE key
 *   sign(privateKey, label, bytes) / verify(publicKey, label, bytes, sig)   ECDSA P-256 P1363
 *
 * Device log (links are JSON: base64url keys and hashes)
 *   createRootLink(userId, device)           seq 0, self-signed
 *   createAddDeviceLink(state, signer, newDevice)   add_device, or add_recovery for a recovery key
 *   unsignedLink(position, fields) + reverseSignLink(body, newDevice) + signLink(body, signer, reverseSig)
 *                                            the same, split across two devices (pairing)
 *   createRevokeLink(state, signer, deviceId) / createRotateKemLink(state, device, kemPublicKey)
 *   verifyLink(stateOrNull, link, expectedUserId?)  → next DeviceLogState (the server's append check)
 *   verifyDeviceLog(links, { userId })       → DeviceLogState: devices (active/revoked, keys),
 *                                              fingerprint (UFP), rootHash, head, hashes
 *   activeDevices / activeSigners / activeRecoveryKey / revokedDeviceIds / findDevice (state helpers)
 *   assertLogExtends(pinned, state)          rollback, fork and fingerprint change detection
 *   Failures throw DeviceLogError { reason, seq?, deviceId?, userId? }.
 *
 * User identity
 *   userFingerprint(userId, rootHash) (= state.fingerprint), safetyNumber(ufpA, ufpB) → 60 digits,
 *   sameSafetyNumber(typed, computed); assertLogExtends for TOFU pins (see above).
 *
 * Shares (crypto.md §8; wire types ShareEnvelope, RecipientWrap, ShareForward)
 *   sealShare({ sender: { userId, keys, log }, target, shareId, recipients: DeviceLogState[], plaintext,
 *              version?, prevVersionHash?, expiresAt? }) → { envelope, wraps }
 *   openShare({ envelope, wrap, me: { userId, keys, log }, senderLog, expected: { shareId, target? },
 *              forward? }) → { plaintext, manifest, warnings }; ShareError { reason } otherwise
 *   forwardShare({ ...openShare params, to: DeviceLogState[] }) → { forward, wraps } (backfill)
 *   verifyShareSignature(envelope, senderLog), verifyForwardSignature(record, manifest, forwarderLog), parseEnvelope / parseWrap / parseForward (server-side checks)
 *   keyCommitment, contentAad, wrapInfo, ciphertextHash, encodeManifest, manifestHash, pad / unpad
 *
 * Pairing by SAS with commitment (crypto.md §5; PairingError { reason })
 *   new device:      createPairingOffer → newDeviceSession(response) → revealPairingKey → newDeviceMac /
 *                    verifyExistingDeviceMac(claim) → reverseSignLink
 *   existing device: respondToPairingOffer(offer) → existingDeviceSession(reveal) → sameSasCode(typed) →
 *                    verifyNewDeviceMac / existingDeviceMac(claim) → signLink
 *
 * Recovery key: generateRecoveryCode() → { code (show once), keys }; deriveRecoveryKeys(code);
 *   assertRecoveryKeyOf(state, keys); RecoveryError { reason }.
 *
 * Primitives (the wrappers the Wycheproof/RFC vectors test): shareHpke / handshakeHpke (HpkeSuite),
 *   aesGcmEncrypt / aesGcmDecrypt (96-bit nonces), hkdfSha256, hmacSha256, ecdhP256, verifyRaw.
 *   cryptoSelfTest(): known-answer tests of those wrappers on the running platform (call at start-up).
 *   Handshake hand-off: sealHandshake / openHandshake / handshakeInfo / generateHandshakeKeyPair.
 * Canonical encoding: lp / lengthPrefixed / u64 (LP(x) = u16be(len) ‖ x), sha256, base64url.
 * Key stores: KeyStore (get/set/delete strings; VS Code SecretStorage adapter in key-store.ts),
 * memoryKeyStore(); fileKeyStore(path) from `@osmynt/sdk/crypto/file-key-store` (Node, 0600/0700).
 */

export { AES_GCM_NONCE_LENGTH, AES_GCM_TAG_LENGTH, aesGcmDecrypt, aesGcmEncrypt } from "./aead.js";
export {
  type Bytes,
  bytesEqual,
  concatBytes,
  lengthPrefixed,
  lp,
  randomBytes,
  sha256,
  u64,
  utf8,
} from "./bytes.js";
export {
  createDeviceKeys,
  DEFAULT_DEVICE_KEY_NAME,
  type DeviceKeys,
  generateDeviceKeys,
  generateKemKey,
  importPrivateKey,
  loadDeviceKeys,
  newDeviceId,
  replaceStoredKemKey,
  storeDeviceKeys,
} from "./device-keys.js";
export * from "./device-log/index.js";
export { ecdhP256 } from "./ecdh.js";
export { fromBase64url, fromHex, toBase64url, toHex } from "./encoding.js";
export {
  CryptoError,
  DeviceLogError,
  type DeviceLogErrorReason,
  KeyError,
  type KeyErrorReason,
  PairingError,
  type PairingErrorReason,
  RecoveryError,
  type RecoveryErrorReason,
  ShareError,
  type ShareErrorReason,
} from "./errors.js";
export {
  generateHandshakeKeyPair,
  HANDSHAKE_INFO_LABEL,
  type HandshakeKeyPair,
  handshakeInfo,
  openHandshake,
  type SealedHandshake,
  sealHandshake,
} from "./handshake.js";
export { type HpkeSuite, handshakeHpke, shareHpke } from "./hpke.js";
export { hkdfSha256, hmacSha256 } from "./kdf.js";
export { type KeyStore, memoryKeyStore } from "./key-store.js";
export {
  createPairingOffer,
  type ExistingDeviceClaim,
  type ExistingDevicePairing,
  existingDeviceMac,
  existingDeviceSession,
  type NewDevicePairing,
  newDeviceMac,
  newDeviceSession,
  type PairingOffer,
  type PairingResponse,
  type PairingReveal,
  type PairingSession,
  parsePairingOffer,
  respondToPairingOffer,
  revealPairingKey,
  sameSasCode,
  verifyExistingDeviceMac,
  verifyNewDeviceMac,
} from "./pairing.js";
export {
  exportPublicKey,
  importPublicKey,
  kemKeyId,
  P256_POINT_LENGTH,
  type PublicKeyInput,
  type PublicKeyUse,
  parsePublicKey,
} from "./public-keys.js";
export { assertRecoveryKeyOf, deriveRecoveryKeys, generateRecoveryCode } from "./recovery.js";
export { SAFETY_NUMBER_LABEL, safetyNumber, sameSafetyNumber } from "./safety-number.js";
export { cryptoSelfTest } from "./self-test.js";
export * from "./share/index.js";
export { SIGNATURE_LENGTH, sign, verify, verifyRaw } from "./signatures.js";
export { SUITE, type Suite } from "./suite.js";
export { handshakeUserCode, normalizeUserCode, USER_CODE_ALPHABET, userCodeKey } from "./user-code.js";
