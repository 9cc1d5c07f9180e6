export * from "./client.js";
export * from "./errors.js";
export * from "./ids.js";
export * from "./queries/audit.js";
export * from "./queries/events.js";
export * from "./queries/sessions.js";
export * from "./queries/users.js";
export * as schema from "./schema/index.js";
export * from "./tokens.js";
