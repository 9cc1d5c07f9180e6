export * from "./audit.js";
export * from "./devices.js";
export * from "./events.js";
export * from "./handshakes.js";
export * from "./invites.js";
export * from "./sessions.js";
export * from "./teams.js";
export * from "./users.js";
