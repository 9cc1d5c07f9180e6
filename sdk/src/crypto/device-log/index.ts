export {
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  type LinkFields,
  type LinkPosition,
  reverseSignLink,
  signLink,
  unsignedLink,
} from "./build.js";
export {
  DEVICE_LINK_TYPES,
  type DeviceLink,
  type DeviceLinkBody,
  type DeviceLinkType,
  type DeviceLogHead,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
} from "./link.js";
export { encodeLinkBody, linkBody, linkHash } from "./link-encoding.js";
export { parseLink } from "./link-shape.js";
export {
  activeDevices,
  activeRecoveryKey,
  activeSigners,
  type DeviceLogState,
  type DeviceRecord,
  findDevice,
  revokedDeviceIds,
  userFingerprint,
} from "./state.js";
export { assertLogExtends, verifyDeviceLog, verifyLink } from "./verify.js";
