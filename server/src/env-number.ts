import { z } from "zod";

/**
 * A number read from the environment, each problem named for what it is. zod applies a schema's
 * `error` string to every check of it, so `{ error: "must be a number" }` also answered a value
 * past the maximum with "must be a number"; this says the bound instead.
 */
export const envNumber = () =>
  z.coerce.number({
    // Typed wider than zod infers (it names only invalid_type): the checks' issues arrive here too.
    error: (issue: z.core.$ZodRawIssue) => {
      if (issue.code === "too_big") return `must be ${issue.inclusive === false ? "below" : "at most"} ${issue.maximum}`;
      if (issue.code === "too_small") return `must be ${issue.inclusive === false ? "above" : "at least"} ${issue.minimum}`;
      if (issue.code === "invalid_type" && issue.expected === "int") return "must be a whole number";
      return "must be a number";
    },
  });
