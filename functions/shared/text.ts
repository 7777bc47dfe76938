/** Small text helpers shared by the email and the pages. */

/**
 * Characters that change how text reads without being seen: bidirectional overrides and isolates
 * (which can make "moc.elpmaxe" read as "example.com"), zero-width characters, invisible fillers,
 * tag characters, and the C0/C1 controls. Text a requester or an approver supplied could use them
 * to pass for the page's or the email's own text.
 */
const INVISIBLE =
  /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0E\uFEFF\uFFA0\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDFFF]/g;
/** Line breaks other than \n: each could start a line in a mail client without the quote in front of it. */
const OTHER_LINE_BREAKS = /\r\n?|[\u000B\u000C\u0085\u2028\u2029]/g;

/** Text with invisible and control characters removed; tabs kept, every line break a plain \n. */
export function withoutInvisible(text: string): string {
  return text.replace(OTHER_LINE_BREAKS, "\n").replace(INVISIBLE, "");
}

/** `[U+202E]`: how an invisible character is shown. */
export function codePointLabel(character: string): string {
  return `[U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`;
}

/**
 * Text as it may be shown: invisible and control characters become visible labels such as
 * `[U+202E]`, and line breaks are plain `\n` (multi-line text) or spaces (one line). Idempotent.
 */
export function visible(text: string, lines: "multiline" | "oneLine" = "oneLine"): string {
  const normalised = text.replace(OTHER_LINE_BREAKS, "\n").replace(INVISIBLE, codePointLabel);
  return lines === "multiline" ? normalised : normalised.replace(/[\n\t]/g, " ");
}

/** A title, a key, an address: one line, invisible characters shown, runs of spaces collapsed. */
export function oneLine(text: string): string {
  return visible(text, "oneLine").replace(/\s+/g, " ").trim();
}

/** The first 12 hex characters of an `inputDigest` ("sha256:<hex>"): short enough to compare by eye. */
export function fingerprintOf(inputDigest: string | undefined): string {
  return (inputDigest ?? "").replace(/^sha256:/, "").slice(0, 12);
}

/** "1 field", "2,345 characters". */
export function counted(count: number, unit: string, plural = `${unit}s`): string {
  return `${count.toLocaleString("en-GB")} ${count === 1 ? unit : plural}`;
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
