/**
 * The execution input as approvers are shown it: every field, nested values kept as structure,
 * bounded in size, with what was left out counted. Built once when the request is stored; the page
 * and the email render the same view. Text has its invisible characters made visible (text.ts).
 */
import { counted, oneLine, visible } from "./text";

/** A value of the input as shown. `cut` counts what was left out: characters, fields or items. */
export type ShownValue =
  | { text: string; cut?: number }
  /** A number, boolean or null, as JSON. */
  | { literal: string }
  | { fields: ShownField[]; cut?: number }
  | { items: ShownValue[]; cut?: number };

export interface ShownField {
  key: string;
  value: ShownValue;
}

/** The whole view: the input's fields as an object node; `cut` counts top-level fields left out. */
export type InputView = { fields: ShownField[]; cut?: number };

export const INPUT_VIEW_LIMITS = {
  /** Characters of text values in the whole view; short values are never cut for a long one. */
  characters: 10_000,
  /** Values shown in the whole view, taken breadth first: every top-level field before anything nested. */
  values: 400,
  /** Top-level fields shown. */
  topLevelFields: 200,
  /** Fields or items shown of one nested object or list. */
  entriesPerContainer: 50,
  /** Nesting shown as structure; anything deeper is shown as JSON text. (DynamoDB nests at most 32 levels.) */
  depth: 6,
  keyCharacters: 120,
} as const;
export type InputViewLimits = { [Key in keyof typeof INPUT_VIEW_LIMITS]: number };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The largest cap such that every text cut to it fits the budget: short texts stay whole. */
export function fairCap(lengths: number[], budget: number): number {
  const sorted = [...lengths].sort((a, b) => a - b);
  let remaining = budget;
  for (let index = 0; index < sorted.length; index++) {
    const share = Math.floor(remaining / (sorted.length - index));
    if (sorted[index] > share) return share;
    remaining -= sorted[index];
  }
  return Number.POSITIVE_INFINITY;
}

function cutText(text: string, cap: number): { text: string; cut?: number } {
  const characters = Array.from(text);
  if (characters.length <= cap) return { text };
  return { text: characters.slice(0, cap).join(""), cut: characters.length - cap };
}

function shownKey(key: string, max: number): string {
  const characters = Array.from(oneLine(key));
  return characters.length <= max ? characters.join("") : `${characters.slice(0, max - 1).join("")}…`;
}

/** One value of the input still to be shown, and where its shown form goes. */
interface Pending {
  value: unknown;
  depth: number;
  place(shown: ShownValue): void;
}

/**
 * The view of `fields` (the input's fields, less those shown elsewhere on the page). Breadth first,
 * so that a huge or deeply nested first field never pushes a later, short one out of sight.
 */
export function buildInputView(fields: Record<string, unknown>, limits: InputViewLimits = INPUT_VIEW_LIMITS): InputView {
  const view: InputView = { fields: [] };
  const texts: Array<{ raw: string; shown: { text: string; cut?: number } }> = [];
  let queue: Pending[] = [];
  let taken = 0;

  /** Queues a container's entries while the value budget lasts; returns how many did not fit. */
  const enqueue = (entries: Array<[string | undefined, unknown]>, depth: number, push: (key: string | undefined, shown: ShownValue) => void): number | undefined => {
    const fitting = entries.slice(0, Math.max(0, Math.min(limits.values - taken, depth === 1 ? limits.topLevelFields : limits.entriesPerContainer)));
    taken += fitting.length;
    for (const [key, value] of fitting) queue.push({ value, depth, place: (shown) => push(key === undefined ? undefined : shownKey(key, limits.keyCharacters), shown) });
    return fitting.length < entries.length ? entries.length - fitting.length : undefined;
  };
  const entriesOf = (record: Record<string, unknown>): Array<[string, unknown]> => Object.entries(record).filter(([, value]) => value !== undefined);

  const topCut = enqueue(entriesOf(fields), 1, (key, value) => view.fields.push({ key: key ?? "", value }));
  if (topCut) view.cut = topCut;

  while (queue.length > 0) {
    const level = queue;
    queue = [];
    for (const { value, depth, place } of level) {
      if (typeof value === "string" || (depth > limits.depth && typeof value === "object" && value !== null)) {
        const raw = typeof value === "string" ? visible(value, "multiline") : visible(JSON.stringify(value), "multiline");
        const shown = { text: raw };
        place(shown);
        texts.push({ raw, shown });
      } else if (isRecord(value)) {
        const shown: { fields: ShownField[]; cut?: number } = { fields: [] };
        place(shown);
        const cut = enqueue(entriesOf(value), depth + 1, (key, item) => shown.fields.push({ key: key ?? "", value: item }));
        if (cut) shown.cut = cut;
      } else if (Array.isArray(value)) {
        const shown: { items: ShownValue[]; cut?: number } = { items: [] };
        place(shown);
        const cut = enqueue(value.map((item): [undefined, unknown] => [undefined, item ?? null]), depth + 1, (_key, item) => shown.items.push(item));
        if (cut) shown.cut = cut;
      } else {
        place({ literal: JSON.stringify(value) ?? "null" });
      }
    }
  }

  const cap = fairCap(texts.map(({ raw }) => Array.from(raw).length), limits.characters);
  for (const { raw, shown } of texts) Object.assign(shown, cutText(raw, cap));
  return view;
}

/** What the view leaves out, in words ("120 characters and 3 fields or items"), or undefined if nothing. */
export function omittedFrom(view: InputView): string | undefined {
  let characters = 0;
  let entries = 0;
  const walk = (value: ShownValue) => {
    if ("text" in value) characters += value.cut ?? 0;
    else if ("fields" in value) {
      entries += value.cut ?? 0;
      value.fields.forEach((field) => walk(field.value));
    } else if ("items" in value) {
      entries += value.cut ?? 0;
      value.items.forEach(walk);
    }
  };
  walk(view);
  const parts = [characters ? counted(characters, "character") : "", entries ? counted(entries, "field or item", "fields or items") : ""].filter(Boolean);
  return parts.length ? parts.join(" and ") : undefined;
}
