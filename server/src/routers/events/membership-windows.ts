import type { EventRow, MembershipWindow } from "@osmynt/db";

/**
 * One user's membership windows, per team: the ids of the team's events they may see, from their
 * join event up to (not including) the event that ended it. Loaded from the database
 * (membership_windows, kept by recordEvents) and extended by the membership events that pass
 * live, which say the same thing in the same order; merging the two is idempotent.
 */
export class MembershipWindows {
  private readonly byTeam = new Map<string, { from: number; to: number | null }[]>();

  constructor(private readonly userId: string) {}

  merge(windows: readonly MembershipWindow[]) {
    for (const w of windows) this.open(w.teamId, w.joinedEventId, w.leftEventId);
  }

  /** Applies a membership event of the log, in id order. */
  apply(row: EventRow) {
    const teamId = row.teamId ?? (typeof row.payload.teamId === "string" ? row.payload.teamId : null);
    if (!teamId) return;
    const aboutMe = row.payload.userId === this.userId;
    if (row.type === "team.memberJoined" && row.teamId && aboutMe) this.open(teamId, row.id, null);
    // The team's copy ends the window; the personal copy, one id later, says the same.
    else if ((row.type === "team.memberLeft" && aboutMe) || (row.type === "team.deleted" && (row.teamId || row.userId === this.userId)))
      this.close(teamId, row.id);
  }

  covers(teamId: string, id: number): boolean {
    return (this.byTeam.get(teamId) ?? []).some((w) => w.from <= id && (w.to === null || id < w.to));
  }

  /** What the user may see of a row: their own events, and their teams' within a window. */
  visible(row: EventRow): boolean {
    return row.userId === this.userId || (row.teamId !== null && this.covers(row.teamId, row.id));
  }

  /** Teams with a window still open or ending after `after`: the teams whose events may still concern them. */
  teamsAfter(after: number): string[] {
    return [...this.byTeam].filter(([, ws]) => ws.some((w) => w.to === null || w.to > after + 1)).map(([teamId]) => teamId);
  }

  private open(teamId: string, from: number, to: number | null) {
    let list = this.byTeam.get(teamId);
    if (!list) {
      list = [];
      this.byTeam.set(teamId, list);
    }
    const same = list.find((w) => w.from === from);
    if (!same) list.push({ from, to });
    else if (to !== null) same.to = same.to === null ? to : Math.min(same.to, to);
  }

  private close(teamId: string, at: number) {
    for (const w of this.byTeam.get(teamId) ?? []) {
      if (w.from < at && (w.to === null || w.to > at)) w.to = at;
    }
  }
}
