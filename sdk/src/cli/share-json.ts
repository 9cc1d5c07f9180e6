import type { Share } from "../shares/shares.js";

/** The stable JSON shape of a decrypted share (`show`, `watch`, `apply`). */
export function shareJson(share: Share, author: string | null) {
  return {
    id: share.id,
    title: share.title,
    code: share.code,
    language: share.language ?? null,
    path: share.path ?? null,
    repo: share.repo ?? null,
    commit: share.commit ?? null,
    lineRange: share.lineRange ?? null,
    fullFile: share.fullFile ?? false,
    target: share.target,
    authorId: share.authorId,
    author,
    authorDeviceId: share.authorDeviceId,
    createdAt: share.createdAt.toISOString(),
    expiresAt: share.expiresAt?.toISOString() ?? null,
    warnings: share.warnings,
  };
}

/** One line saying what a share is and where it comes from, for people. */
export function shareHeading(share: Share, author: string | null): string {
  const where = share.path
    ? ` ${share.path}${share.lineRange ? `:${share.lineRange.start}-${share.lineRange.end}` : ""}${share.commit ? ` @${share.commit.slice(0, 12)}` : ""}`
    : "";
  return `${share.id}  "${share.title}" from ${author ?? share.authorId}${where}`;
}
