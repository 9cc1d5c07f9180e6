import { createHash } from "node:crypto";
import { findInvitePreview, type InvitePreview } from "@osmynt/db";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppDeps } from "../deps.js";
import { budgetsOf } from "../limits/budgets.js";
import { addressKey } from "../limits/calls.js";
import { acceptInviteInput } from "../routers/teams/invites.types.js";
import { REST_PREFIX } from "./rest-operations.js";

const STYLE =
  "body{font:16px/1.55 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1.25rem;color:#1b1b1b}" +
  "h1{font-size:1.6rem;margin-bottom:.25rem}h2{font-size:1.05rem;margin-top:1.75rem}" +
  "code,pre{font:14px/1.45 ui-monospace,monospace;background:#f3f3f3;border-radius:4px}code{padding:.1rem .3rem}" +
  "pre{padding:.75rem 1rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}.muted{color:#5f5f5f}";

/** Nothing loads, runs or frames: the one inline style block is allowed by its hash. */
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function send(reply: FastifyReply, status: number, html: string) {
  return reply
    .code(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("content-security-policy", CSP)
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("x-robots-tag", "noindex")
    .send(html);
}

const INVALID = page(
  "Invite not valid — Osmynt",
  `<h1>This invite link cannot be used</h1>
<p>It may have expired, been revoked or used up, or it was not copied whole.</p>
<p class="muted">Ask the person who invited you for a new link.</p>`,
);

function validPage(invite: InvitePreview, url: string, token: string): string {
  const team = escapeHtml(invite.teamName);
  const inviter = invite.inviter
    ? `${escapeHtml(invite.inviter.name ?? invite.inviter.login)} (@${escapeHtml(invite.inviter.login)})`
    : "A team admin";
  const expires = invite.expiresAt.toISOString();
  const link = escapeHtml(url);
  const body = escapeHtml(JSON.stringify({ token }));
  return page(
    `Join ${invite.teamName} — Osmynt`,
    `<h1>Join ${team} on Osmynt</h1>
<p>${inviter} invited you to join <strong>${team}</strong> as ${invite.role === "admin" ? "an admin" : "a member"}.</p>
<p>This invite expires on <time datetime="${expires}">${escapeHtml(expires.replace("T", " ").replace(/\.\d+Z$/, " UTC"))}</time>.</p>
<h2>From your editor</h2>
<p>Sign in to Osmynt in the editor, run its <strong>Join team</strong> command and paste this page's address.</p>
<h2>From a terminal</h2>
<pre>osmynt login
osmynt teams join '${link}'</pre>
<h2>From a script</h2>
<pre>POST ${escapeHtml(REST_PREFIX)}/teams/invites/accept
Authorization: Bearer &lt;accessToken&gt;
Content-Type: application/json

${body}</pre>
<p class="muted">Anyone holding this link can join while it is valid: keep it to yourself.</p>`,
  );
}

/**
 * `GET /invite/:token`: the page an invite URL opens in a browser. It shows the team, who invited
 * and until when, and how to join; any token that cannot be accepted gets the same page, so
 * nothing is revealed about it. The token stays out of logs (the request serializer masks it).
 */
export async function invitePage(scope: FastifyInstance, { deps }: { deps: AppDeps }) {
  scope.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (error.statusCode === 429)
      return send(reply, 429, page("Too many requests — Osmynt", `<h1>Too many requests</h1><p>${escapeHtml(error.message)}</p>`));
    req.log.error({ err: error }, "invite page failed");
    return send(reply, 500, page("Error — Osmynt", "<h1>Something went wrong</h1><p>Try again in a moment.</p>"));
  });

  // Looking a token up is what guessing one would take: pages draw on an address budget of their
  // own, as large as the invite-acceptance one (on top of the app-wide per-address limit).
  const budget = budgetsOf(deps.config).procedure.inviteAccept;

  scope.get<{ Params: { token: string } }>("/invite/:token", async (req, reply) => {
    const verdict = await deps.limiter.take("invite-page", budget, addressKey(req.ip));
    if (!verdict.ok) {
      const retry = Math.max(1, Math.ceil(verdict.resetMs / 1000));
      return send(
        reply.header("retry-after", String(retry)),
        429,
        page(
          "Too many requests — Osmynt",
          `<h1>Too many requests</h1><p>At most ${verdict.limit} invite pages a minute from one address; retry in ${retry} s.</p>`,
        ),
      );
    }
    const parsed = acceptInviteInput.safeParse({ token: req.params.token });
    const invite = parsed.success ? await findInvitePreview(deps.db, { token: parsed.data.token }) : undefined;
    if (!parsed.success || !invite) return send(reply, 404, INVALID);
    const base = (deps.config.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, "");
    return send(reply, 200, validPage(invite, `${base}/invite/${parsed.data.token}`, parsed.data.token));
  });
}
