/**
 * @osmynt/sdk in browsers (`@osmynt/sdk/browser`, and what bundlers pick for `@osmynt/sdk` under
 * the `browser` condition): the typed client, devices, shares and live events with the platform's
 * fetch, WebSocket and Web Crypto. Nothing here imports a Node module; `tests/sdk/browser-bundle.test.ts`
 * bundles it for the browser and fails on any. Types come from the generated router description,
 * so nothing here imports the server.
 */
export type {
  AppRouter,
  InputIssue,
  OsmyntErrorData,
  OsmyntErrorShape,
  ProcedurePath,
  RouterInputs,
  RouterOutputs,
  RouterProcedures,
  SelfUser,
  Session,
  TrackedEvent,
} from "./app-router.js";
export { createOsmyntClient, type OsmyntClient, type OsmyntClientExtras, type OsmyntClientOptions } from "./client.js";
export { type ConnectionStatus, toConnectionStatus } from "./connection-status.js";
export { fromBase64url, fromHex, toBase64url, toHex } from "./crypto/encoding.js";
export {
  generateHandshakeKeyPair,
  type HandshakeKeyPair,
  handshakeInfo,
  openSealedSession,
  SealedSessionError,
} from "./crypto/handshake-crypto.js";
export {
  assertEncryptable,
  createDevices,
  type DeviceInternals,
  type Devices,
  type DevicesOptions,
  type KeysClient,
  type Recipient,
  RecipientError,
  type RecipientErrorReason,
  type TrustedLog,
} from "./devices/devices.js";
export { PairingAbortedError, type PairingWaitOptions } from "./devices/pairing.js";
export { type Pin, readPin } from "./devices/pins.js";
export { EventStream } from "./event-stream.js";
export type { EventPayload, EventsOptions, OsmyntEvent, OsmyntEventType } from "./event-types.js";
export { procedureKinds } from "./generated/router-types.js";
export { memorySessionStore, type SessionStore } from "./memory-session-store.js";
export { callbackTokenSource, isUnauthorized, SessionKeeper, type SessionKeeperOptions, type TokenSource } from "./session-keeper.js";
export {
  createShares,
  type LiveShare,
  type Share,
  type ShareCodeInput,
  type ShareContent,
  type Shares,
  type SharesClient,
} from "./shares/shares.js";
export {
  type BrowserSignInTransport,
  browserSignInTransport,
  type SignInWithBrowserOptions,
  signInWithBrowser,
} from "./sign-in-browser.js";
export type { EventSourceConstructor } from "./sse.js";
export { ResyncRequiredError } from "./stream-errors.js";
export { endpointsOf } from "./urls.js";
export type { WebSocketConstructor } from "./websocket.js";
