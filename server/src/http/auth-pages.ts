import type { FastifyReply } from "fastify";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The small page the browser lands on after GitHub. It holds no token and no script: the session
 * goes to the editor sealed, through the handshake, never through this page or its URL.
 */
function page(title: string, body: string, ok: boolean): string {
  const accent = ok ? "#1a7f37" : "#cf222e";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Osmynt</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f6f8fa; color: #1f2328; }
  main { background: #fff; border: 1px solid #d0d7de; border-top: 4px solid ${accent}; border-radius: 8px; padding: 2rem 2.5rem; max-width: 32rem; }
  h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
  p { margin: .5rem 0; }
  form { margin-top: 1rem; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  input#code { font: 1.25rem/1.2 ui-monospace, monospace; letter-spacing: .15em; text-transform: uppercase; padding: .4rem .6rem; width: 10rem; border: 1px solid #d0d7de; border-radius: 6px; }
  button { font: inherit; padding: .45rem .9rem; border-radius: 6px; border: 1px solid #1a7f37; background: #1f883d; color: #fff; cursor: pointer; }
  .wrong { color: #cf222e; font-weight: 600; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

/**
 * Answers with a page; never cached, never framed, and no resource may load from it. A page with
 * the code form may post only to this server, and be redirected on to GitHub (`formTarget`):
 * browsers apply form-action to the redirect too.
 */
export function sendPage(reply: FastifyReply, status: number, html: string, formTarget?: string) {
  const formAction = formTarget ? `form-action 'self' ${formTarget}` : "form-action 'none'";
  return reply
    .code(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header(
      "content-security-policy",
      `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; ${formAction}`,
    )
    .send(html);
}

/**
 * The confirmation page of `/auth/github/start`: the person types the code their editor shows.
 * Someone who opened a link they were sent has no editor showing that code, and cannot go on.
 */
export function confirmPage(params: { handshakeId: string; attemptsLeft: number; wrong?: boolean }): string {
  const warning = params.wrong
    ? `<p id="result" class="wrong">That code does not match. ${params.attemptsLeft} ${params.attemptsLeft === 1 ? "attempt" : "attempts"} left.</p>`
    : "";
  return page(
    "Confirm it is your editor",
    `${warning}<p>Type the code <strong>your editor</strong> is showing to sign in with GitHub.</p>
<p>If no editor of yours is showing a code right now, someone else started this sign-in: <strong>close this page</strong>. Never type a code someone sent you.</p>
<form method="post" action="start">
<input type="hidden" name="handshake" value="${escapeHtml(params.handshakeId)}">
<label for="code">Code</label>
<input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" placeholder="XXXX-XXXX" required autofocus>
<button id="continue" type="submit">Continue to GitHub</button>
</form>`,
    true,
  );
}

export function successPage(login: string): string {
  return page(
    "Signed in",
    `<p id="result">You are signed in as <strong>${escapeHtml(login)}</strong> — return to your editor.</p>
<p>You can close this tab.</p>`,
    true,
  );
}

export function failurePage(title: string, reason: string): string {
  return page(title, `<p id="result">${escapeHtml(reason)}</p>\n<p>Start the sign-in again from your editor.</p>`, false);
}
