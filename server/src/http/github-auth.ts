import {
  AppError,
  beginHandshakeAuthorization,
  claimHandshakeByState,
  completeHandshake,
  failHandshake,
  getHandshakeForConfirmation,
  type HandshakeState,
  hashToken,
  recordWrongUserCode,
} from "@osmynt/db";
import { generateState } from "arctic";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { fetchGitHubProfile } from "../auth/github-api.js";
import { exchangeGitHubCode, githubAuthorizeUrl } from "../auth/github-oauth.js";
import { HANDSHAKE_SETTLED } from "../auth/handshake-waiters.js";
import { USER_CODE_ATTEMPTS, userCodeMatches } from "../auth/user-code.js";
import type { AppDeps } from "../deps.js";
import { provisionGitHubUser, publicBaseUrl } from "../routers/auth/github-sign-in.js";
import { handshakeIdSchema } from "../routers/auth/handshake.types.js";
import { failureMessages } from "../routers/auth/handshake-errors.js";
import { withEvents } from "../trpc/with-events.js";
import { confirmPage, failurePage, sendPage, successPage } from "./auth-pages.js";

type Query = Record<string, string | string[] | undefined>;
const one = (q: Query, key: string) => (typeof q[key] === "string" ? (q[key] as string) : undefined);

/** Why a handshake cannot go on, in the words of the person in the browser. */
function stateProblem(state: HandshakeState | undefined, what: "link" | "state"): string {
  if (!state)
    return what === "link" ? "This sign-in link is not known to the server." : "This sign-in answer does not belong to any sign-in.";
  if (state.expired) return "This sign-in has expired.";
  if (state.status === "failed") return `This sign-in already failed: ${failureMessages[state.failure ?? "internal"] ?? state.failure}.`;
  return "This sign-in link was already used.";
}

/** A failure after GitHub came back, as the code the editor hears and the page the browser shows. */
function failureOf(error: unknown): { failure: string; status: number; title: string } {
  if (error instanceof AppError && error.code === "UNAUTHORIZED")
    return { failure: "github_refused", status: 400, title: "GitHub refused the sign-in" };
  if (error instanceof AppError && error.code === "BAD_GATEWAY")
    return { failure: "github_unavailable", status: 502, title: "GitHub is not answering" };
  if (error instanceof AppError && error.code === "CONFLICT") return { failure: "login_conflict", status: 409, title: "Sign-in refused" };
  if (error instanceof AppError && error.code === "NOT_FOUND") return { failure: "expired", status: 410, title: "Sign-in expired" };
  return { failure: "internal", status: 500, title: "Sign-in failed" };
}

/**
 * The browser half of editor sign-in: `GET /start` shows a page asking for the code the editor
 * shows; `POST /start` with the right code binds a fresh OAuth state to the handshake and sends the
 * browser to GitHub (wrong codes are counted; too many kill the handshake); `/callback` spends that
 * state, exchanges the code and records who signed in (the session is opened when the editor
 * retrieves it). Query strings and form bodies (codes, state) never reach the logs: the request
 * serializer logs paths only.
 */
export const githubAuthRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const { config, db } = deps;
  const callbackUrl = (req: FastifyRequest) => `${publicBaseUrl(config, `${req.protocol}://${req.host}`)}/auth/github/callback`;
  const notConfigured = "GitHub sign-in is not configured on this server.";
  const githubOrigin = config.github ? new URL(config.github.authorizeUrl).origin : undefined;
  // Form posts are parsed in this plugin only; a code is a few characters.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  /** Ends the handshake for the waiting editor, waking it on every instance through the log. */
  const fail = (id: string, failure: string) =>
    withEvents(deps, async (tx, emit) => {
      if (await failHandshake(tx, { id, failure }))
        await emit([{ type: HANDSHAKE_SETTLED, userId: null, teamId: null, payload: { handshakeId: id } }]);
    });

  app.get("/start", async (req, reply) => {
    if (!config.github) return sendPage(reply, 404, failurePage("Sign-in unavailable", notConfigured));
    const id = handshakeIdSchema.safeParse(one(req.query as Query, "handshake"));
    if (!id.success) return sendPage(reply, 400, failurePage("Bad sign-in link", "The link has no valid handshake id."));
    const handshake = await getHandshakeForConfirmation(db, id.data);
    if (!handshake || handshake.expired || handshake.status !== "pending")
      return sendPage(reply, handshake?.expired ? 410 : 400, failurePage("Cannot sign in", stateProblem(handshake, "link")));
    return sendPage(
      reply,
      200,
      confirmPage({ handshakeId: id.data, attemptsLeft: USER_CODE_ATTEMPTS - handshake.codeAttempts }),
      githubOrigin,
    );
  });

  app.post("/start", async (req, reply) => {
    if (!config.github) return sendPage(reply, 404, failurePage("Sign-in unavailable", notConfigured));
    const form = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Query;
    const id = handshakeIdSchema.safeParse(one(form, "handshake"));
    if (!id.success) return sendPage(reply, 400, failurePage("Bad sign-in link", "The form has no valid handshake id."));
    const handshake = await getHandshakeForConfirmation(db, id.data);
    if (!handshake || handshake.expired || handshake.status !== "pending")
      return sendPage(reply, handshake?.expired ? 410 : 400, failurePage("Cannot sign in", stateProblem(handshake, "link")));
    if (!(await userCodeMatches(config, handshake, one(form, "code") ?? ""))) {
      const counted = await recordWrongUserCode(db, { id: id.data, maxAttempts: USER_CODE_ATTEMPTS });
      if (counted && counted.left > 0)
        return sendPage(reply, 400, confirmPage({ handshakeId: id.data, attemptsLeft: counted.left, wrong: true }), githubOrigin);
      if (counted)
        await withEvents(deps, (_tx, emit) =>
          emit([{ type: HANDSHAKE_SETTLED, userId: null, teamId: null, payload: { handshakeId: id.data } }]),
        );
      return sendPage(
        reply,
        429,
        failurePage("Sign-in stopped", "Too many wrong codes: this sign-in is cancelled, and nobody was signed in."),
      );
    }
    const state = generateState();
    const begun = await beginHandshakeAuthorization(db, { id: id.data, stateHash: hashToken(state) });
    if (!begun.ok)
      return sendPage(reply, begun.state?.expired ? 410 : 400, failurePage("Cannot sign in", stateProblem(begun.state, "link")));
    // 303: the browser follows with a GET, whatever the form's method was.
    return reply
      .header("cache-control", "no-store")
      .redirect(githubAuthorizeUrl(config.github, { callbackUrl: callbackUrl(req), state }), 303);
  });

  app.get("/callback", async (req, reply) => {
    if (!config.github) return sendPage(reply, 404, failurePage("Sign-in unavailable", notConfigured));
    const query = req.query as Query;
    const state = one(query, "state");
    if (!state || state.length > 200) return sendPage(reply, 400, failurePage("Bad sign-in answer", "GitHub's answer carries no state."));
    const claimed = await claimHandshakeByState(db, { stateHash: hashToken(state) });
    if (!claimed.ok)
      return sendPage(reply, claimed.state?.expired ? 410 : 400, failurePage("Cannot sign in", stateProblem(claimed.state, "state")));

    const error = one(query, "error");
    const code = one(query, "code");
    if (error || !code) {
      const denied = error === "access_denied";
      await fail(claimed.id, denied ? "access_denied" : "github_refused");
      return denied
        ? sendPage(reply, 403, failurePage("Sign-in declined", "You declined access on GitHub, so nobody was signed in."))
        : sendPage(reply, 400, failurePage("GitHub refused the sign-in", `GitHub answered without a code${error ? ` (${error})` : ""}.`));
    }

    try {
      const githubToken = await exchangeGitHubCode(config.github, { callbackUrl: callbackUrl(req), code });
      const profile = await fetchGitHubProfile(config.github, githubToken);
      // One transaction: the user and the completed handshake exist together or not at all; the
      // session is opened only when the editor retrieves it, so an abandoned flow leaves none.
      const login = await withEvents(deps, async (tx, emit) => {
        const user = await provisionGitHubUser(tx, profile);
        if (!(await completeHandshake(tx, { id: claimed.id, userId: user.id })))
          throw new AppError("NOT_FOUND", "the handshake expired while signing in");
        await emit([{ type: HANDSHAKE_SETTLED, userId: null, teamId: null, payload: { handshakeId: claimed.id } }]);
        return user.login;
      });
      return sendPage(reply, 200, successPage(login));
    } catch (error) {
      const failed = failureOf(error);
      if (failed.failure === "internal") req.log.error({ err: error }, "GitHub sign-in failed");
      else req.log.info({ handshakeId: claimed.id, failure: failed.failure }, "GitHub sign-in refused");
      await fail(claimed.id, failed.failure);
      const reason =
        error instanceof AppError && failed.failure !== "internal" ? error.message : "The server failed; the failure was logged.";
      return sendPage(reply, failed.status, failurePage(failed.title, reason));
    }
  });
};
