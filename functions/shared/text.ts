/** Small text helpers shared by the email and the pages. */

/** Cuts `text` to at most `max` characters, marking the cut. Never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const marker = "… (truncated)";
  return chars.slice(0, Math.max(0, max - marker.length)).join("") + marker;
}

/** "2026-11-22 03:45 UTC": unambiguous for approvers in any time zone, no client script needed. */
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** "23 hours", "5 minutes": how long until `iso`, for people, rounded down. */
export function formatRemaining(iso: string, now: Date): string {
  const seconds = Math.floor((new Date(iso).getTime() - now.getTime()) / 1000);
  if (!(seconds > 0)) return "no time";
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`;
  if (seconds >= 2 * 86400) return plural(Math.floor(seconds / 86400), "day");
  if (seconds >= 3600) return plural(Math.floor(seconds / 3600), "hour");
  if (seconds >= 60) return plural(Math.floor(seconds / 60), "minute");
  return "less than a minute";
}
