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

/** Posts the confirmation form of `/auth/github/start` with `code`, as the browser does. */
export async function submitCode(authorizeUrl: string, code: string): Promise<Page> {
  const handshake = new URL(authorizeUrl).searchParams.get("handshake") ?? "";
  const response = await fetch(new URL("start", authorizeUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ handshake, code }).toString(),
  });
  return { status: response.status, text: await response.text(), location: response.headers.get("location") };
}

// What only the editor knows about its handshakes (the code it shows, its retrieval secret),
// remembered here so tests can act as that editor by handshake id or link.
const codes = new Map<string, string>();
const secrets = new Map<string, string>();

/** A fresh editor key and a handshake for it, through the real `auth.handshake.init`. */
export async function startHandshake(server: TestServer): Promise<{
  key: HandshakeKeyPair;
  handshakeId: string;
  authorizeUrl: string;
  userCode: string;
  retrievalSecret: string;
  expiresAt: string;
}> {
  const key = await generateHandshakeKeyPair();
  const { status, body } = await rawCall(server, "auth.handshake.init", { input: { publicKey: key.publicKey } });
  if (status !== 200) throw new Error(`auth.handshake.init failed: ${status} ${JSON.stringify(body)}`);
  const data = body.result.data;
  codes.set(data.authorizeUrl, data.userCode);
  secrets.set(data.handshakeId, data.retrievalSecret);
  return { key, ...data };
}

/** The editor's reference to its handshake: id and retrieval secret (a well-formed wrong one if unknown). */
export function refOf(handshakeId: string): { handshakeId: string; retrievalSecret: string } {
  return { handshakeId, retrievalSecret: secrets.get(handshakeId) ?? "osh_notTheSecretOfThisHandshake000000" };
}

/**
 * What a person does with the authorize URL, one request at a time: the engine's confirmation page,
 * the code typed into it (the one the editor shows, unless `code` says otherwise), the fake
 * GitHub's authorize page (approving or denying), then the engine's callback page. Returns every
 * hop, so tests can replay the callback URL or inspect the GitHub URL.
 */
export async function followBrowser(authorizeUrl: string, decision: "approve" | "deny" = "approve", code?: string) {
  const start = await get(authorizeUrl);
  if (start.status !== 200) return { start, github: null, callbackUrl: null, page: start };
  const confirmed = await submitCode(authorizeUrl, code ?? codes.get(authorizeUrl) ?? "");
  if (confirmed.status !== 303 || !confirmed.location) return { start: confirmed, github: null, callbackUrl: null, page: confirmed };
  const githubUrl = new URL(confirmed.location);
  githubUrl.searchParams.set("decision", decision);
  const github = await get(githubUrl.toString());
  if (github.status !== 302 || !github.location) throw new Error(`fake GitHub did not redirect: ${github.status} ${github.text}`);
  const page = await get(github.location);
  return { start: confirmed, github: githubUrl, callbackUrl: github.location, page };
}

/** The editor's retrieve: with its retrieval secret (found by handshake id), or the input given. */
export const retrieve = (server: TestServer, handshake: unknown) =>
  rawCall(server, "auth.handshake.retrieve", { input: typeof handshake === "string" ? refOf(handshake) : handshake });
