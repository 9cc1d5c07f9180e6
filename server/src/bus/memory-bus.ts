import { EventEmitter } from "node:events";
import type { BusStatus, EventBus, LogAdvanced } from "./types.js";

/** The embedded default: one process, so notifications are plain in-memory calls. */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: "memory",
    publish(note) {
      // Deliver on the next tick so a publisher never runs subscriber code inside its request.
      setImmediate(() => emitter.emit("note", note));
    },
    subscribe(listener: (note: LogAdvanced) => void) {
      emitter.on("note", listener);
      return () => emitter.off("note", listener);
    },
    onStatus(_listener: (status: BusStatus) => void) {
      return () => {};
    },
    status: () => "up",
    ping: async () => {},
    close: async () => {
      emitter.removeAllListeners();
    },
  };
}
