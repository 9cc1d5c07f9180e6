import { generateHandshakeKeyPair, type HandshakeKeyPair } from "@osmynt/sdk";
import { rawCall } from "./factories.js";
import type { TestServer } from "./server.js";

export interface Page {
  status: number;
  text: string;
  location: string | null;
}

async function get(url: string): Promise<Page> {
  const response = await fetch(url, { redirect: "manual" });
  return { status: response.status, text: await response.text(), location: response.headers.get("location") };
}

/** A fresh editor key and a handshake for it, through the real `auth.handshake.init`. */
export async function startHandshake(
  server: TestServer,
): Promise<{ key: HandshakeKeyPair; handshakeId: string; authorizeUrl: string; expiresAt: string }> {
  const key = await generateHandshakeKeyPair();
  const { status, body } = await rawCall(server, "auth.handshake.init", { input: { publicKey: key.publicKey } });
  if (status !== 200) throw new Error(`auth.handshake.init failed: ${status} ${JSON.stringify(body)}`);
  return { key, ...body.result.data };
}

/**
 * What a browser does with the authorize URL, one redirect at a time: the engine's /start, the
 * fake GitHub's authorize page (approving or denying), then the engine's callback page. Returns
 * every hop, so tests can replay the callback URL or inspect the GitHub URL.
 */
export async function followBrowser(authorizeUrl: string, decision: "approve" | "deny" = "approve") {
  const start = await get(authorizeUrl);
  if (start.status !== 302 || !start.location) return { start, github: null, callbackUrl: null, page: start };
  const githubUrl = new URL(start.location);
  githubUrl.searchParams.set("decision", decision);
  const github = await get(githubUrl.toString());
  if (github.status !== 302 || !github.location) throw new Error(`fake GitHub did not redirect: ${github.status} ${github.text}`);
  const page = await get(github.location);
  return { start, github: githubUrl, callbackUrl: github.location, page };
}

export const retrieve = (server: TestServer, handshakeId: unknown) =>
  rawCall(server, "auth.handshake.retrieve", { input: { handshakeId } });
