// Which recurring maintenance windows govern a terminal, and whether it is inside one now. Pure:
// the engine's sends ask it per member, over windows the lookup keeps in memory.
import type { RecurringWindow } from '../../schemas/maintenance.ts';
import { minutesInWindow } from './campaignRules.ts';

/** Where a terminal sits: what a window can be set for. */
export interface WindowOwner {
  merchantId: string | null;
  groupIds: readonly string[];
  /** Materialised organisation path, root first: `/org_root/org_a/`. */
  orgPath: string | null;
}

export interface WindowsByScope {
  merchant: ReadonlyMap<string, readonly RecurringWindow[]>;
  group: ReadonlyMap<string, readonly RecurringWindow[]>;
  org: ReadonlyMap<string, readonly RecurringWindow[]>;
}

/**
 * The most specific windows set for the terminal: its merchant's; else those of its groups (all of
 * them: a terminal in two groups may be served in either's hours); else its nearest organisation's,
 * from its own node up to the root. Undefined when none is set: the terminal may be served any time.
 */
export function governingWindows(owner: WindowOwner, windows: WindowsByScope): readonly RecurringWindow[] | undefined {
  if (!windows.merchant.size && !windows.group.size && !windows.org.size) return undefined;
  const merchant = owner.merchantId ? windows.merchant.get(owner.merchantId) : undefined;
  if (merchant?.length) return merchant;
  const groups = owner.groupIds.flatMap((g) => windows.group.get(g) ?? []);
  if (groups.length) return groups;
  const nodes = (owner.orgPath ?? '').split('/').filter(Boolean).reverse();
  for (const node of nodes) {
    const set = windows.org.get(node);
    if (set?.length) return set;
  }
  return undefined;
}

const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formats = new Map<string, Intl.DateTimeFormat | null>();

function formatFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formats.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      f = null;
    }
    formats.set(timeZone, f);
  }
  return f;
}

/** ISO weekday and minutes since midnight in an IANA zone; null for an unknown zone. */
export function localWeekTime(nowMs: number, timeZone: string): { day: number; minutes: number } | null {
  const f = formatFor(timeZone);
  if (!f) return null;
  const parts = f.formatToParts(new Date(nowMs));
  const day = weekdays[parts.find((p) => p.type === 'weekday')?.value ?? ''];
  const h = Number(parts.find((p) => p.type === 'hour')?.value);
  const m = Number(parts.find((p) => p.type === 'minute')?.value);
  return day && Number.isFinite(h) && Number.isFinite(m) ? { day, minutes: h * 60 + m } : null;
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const previousDay = (day: number) => (day === 1 ? 7 : day - 1);

/** Inside window `w` at local weekday `day`, minute `minutes`: the part after midnight of a window crossing it belongs to the day it opened. */
export function inRecurringWindowAt(w: RecurringWindow, day: number, minutes: number): boolean {
  if (!minutesInWindow(minutes, w)) return false;
  const crossesMidnight = toMinutes(w.start) > toMinutes(w.end);
  const openedOn = crossesMidnight && minutes < toMinutes(w.end) ? previousDay(day) : day;
  return w.days.includes(openedOn);
}

/**
 * Whether a terminal governed by `windows` may be served now. No windows: yes. An unknown time
 * zone: yes, as for a campaign's own window (the server cannot tell; the agent keeps its own clock).
 */
export function inRecurringWindows(windows: readonly RecurringWindow[] | undefined, timeZone: string | undefined, nowMs: number): boolean {
  if (!windows?.length || !timeZone) return true;
  const t = localWeekTime(nowMs, timeZone);
  return t === null ? true : windows.some((w) => inRecurringWindowAt(w, t.day, t.minutes));
}
