export {
  CONTENT_LABEL,
  ciphertextHash,
  contentAad,
  encodeForward,
  encodeManifest,
  encodeTarget,
  keyCommitment,
  MANIFEST_SIGNATURE_LABEL,
  manifestHash,
  wrapHash,
  wrapInfo,
} from "./encoding.js";
export { forwardShare } from "./forward.js";
export {
  type OpenedShare,
  type OpenShareParams,
  openShare,
  type ShareReader,
  verifyForwardSignature,
  verifyShareSignature,
} from "./open.js";
export { pad, paddedLength, unpad } from "./padding.js";
export { type SealShareParams, sealShare } from "./seal.js";
export { compareRecipients, MAX_RECIPIENTS, parseEnvelope, parseForward, parseManifest, parseTarget, parseWrap } from "./shape.js";
export type { ManifestRecipient, RecipientWrap, ShareEnvelope, ShareForward, ShareManifest, ShareTarget } from "./types.js";
export type { ShareSigner } from "./wrap.js";
