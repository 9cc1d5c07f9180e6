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

/** Answers with a page; never cached, never framed, and no resource may load from it. */
export function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply
    .code(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    )
    .send(html);
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
