import { z } from "zod";

export const subscribeInput = z
  .object({
    /** The id of the last event received; the stream resumes right after it. Sent by the client link on reconnect. */
    lastEventId: z
      .string()
      .regex(/^\d{1,15}$/, "lastEventId must be an event id received from this stream")
      .nullish(),
  })
  .optional();

/** What a subscriber receives: one member of the event catalogue (routing data only, never plaintext). */
export type { StreamEvent } from "../../events/catalogue.js";
