import { createHash } from "node:crypto";
import { truncate } from "../shared/text";

/** What the approver is asked, as shown in the email and on the review page. */
export interface ApprovalSummary {
  title: string;
  description?: string;
  requestedBy?: string;
  details?: string;
}

/** Limits keep the email far below SNS's 256 KiB and the table item below 400 KB. */
export const SUMMARY_LIMITS = { title: 200, description: 2_000, details: 8_000 } as const;

/** Input fields the workflow itself reads; everything else is shown as details. */
const CONTROL_FIELDS = new Set(["title", "description", "requestedBy", "approvers"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** JSON with object keys sorted at every depth: the same input always has the same digest. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value).sort().filter((key) => value[key] !== undefined).map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** `sha256:<hex>` of exactly what the approvers were asked, for the calling workflow to compare. */
export function inputDigest(input: unknown): string {
  return "sha256:" + createHash("sha256").update(canonicalJson(input), "utf8").digest("hex");
}

/**
 * Title and description head the page; every other field is shown as details, so an approver never
 * approves something they could not see. A title or description that is not text is shown as a field.
 */
export function summariseInput(input: unknown, fallbackTitle: string): ApprovalSummary {
  const fields = isRecord(input) ? input : { input };
  const title = typeof fields.title === "string" && oneLine(fields.title) ? oneLine(fields.title) : undefined;
  const description = typeof fields.description === "string" && fields.description.trim() ? fields.description.trim() : undefined;
  const requestedBy = typeof fields.requestedBy === "string" && fields.requestedBy.trim() ? fields.requestedBy.trim().toLowerCase() : undefined;
  const shownAbove = (key: string) => (key === "title" && title) || (key === "description" && description) || (key === "requestedBy" && requestedBy) || key === "approvers";
  const rest = Object.fromEntries(Object.entries(fields).filter(([key]) => !(CONTROL_FIELDS.has(key) && shownAbove(key))));
  const details = Object.keys(rest).length ? JSON.stringify(rest, null, 2) : undefined;
  return {
    title: truncate(title ?? fallbackTitle, SUMMARY_LIMITS.title),
    description: description && truncate(description, SUMMARY_LIMITS.description),
    requestedBy,
    details: details && truncate(details, SUMMARY_LIMITS.details),
  };
}
