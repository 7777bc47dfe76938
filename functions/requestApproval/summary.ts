import { truncate } from "../shared/text";

/** What the approver is asked, as shown in the email and on the review page. */
export interface ApprovalSummary {
  title: string;
  description?: string;
  details?: string;
}

/** Limits keep the email far below SNS's 256 KiB and the table item below 400 KB. */
export const SUMMARY_LIMITS = { title: 200, description: 2_000, details: 4_000 } as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function prettyPrint(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

/**
 * Uses `title` / `description` / `details` from the execution input when present;
 * otherwise shows the whole input, so the approver always sees what is asked.
 */
export function summariseInput(input: unknown, fallbackTitle: string): ApprovalSummary {
  const fields = isRecord(input) ? input : {};
  const title = typeof fields.title === "string" && oneLine(fields.title) ? oneLine(fields.title) : fallbackTitle;
  const description = typeof fields.description === "string" && fields.description.trim() ? fields.description.trim() : undefined;
  const hasNamedFields = "title" in fields || "description" in fields || "details" in fields;
  const details = prettyPrint(hasNamedFields ? fields.details : input);
  return {
    title: truncate(title, SUMMARY_LIMITS.title),
    description: description && truncate(description, SUMMARY_LIMITS.description),
    details: details && details.trim() ? truncate(details, SUMMARY_LIMITS.details) : undefined,
  };
}
