import type { HttpRequest } from "./httpEvent";
import { mediaType } from "./httpEvent";
import { withoutInvisible } from "../shared/text";

export type Choice = "approve" | "reject";
export const COMMENT_MAX_LENGTH = 1_000;

export type ParsedDecision =
  | { ok: true; choice: Choice; comment: string }
  | { ok: false; problem: "unsupportedMediaType" | "malformed"; message: string };

export function isChoice(value: unknown): value is Choice {
  return value === "approve" || value === "reject";
}

/**
 * Keeps newlines and tabs; drops control, bidirectional-override and zero-width characters, which
 * have no place in a comment and could make it read as something else on the page or in an email.
 */
function cleanComment(comment: string): string {
  return withoutInvisible(comment).trim();
}

function fromFields(decision: unknown, comment: unknown): ParsedDecision {
  if (!isChoice(decision)) {
    return { ok: false, problem: "malformed", message: 'The decision must be "approve" or "reject".' };
  }
  if (comment !== undefined && typeof comment !== "string") {
    return { ok: false, problem: "malformed", message: "The comment must be text." };
  }
  const cleaned = cleanComment(comment ?? "");
  if (Array.from(cleaned).length > COMMENT_MAX_LENGTH) {
    return { ok: false, problem: "malformed", message: `The comment is longer than ${COMMENT_MAX_LENGTH} characters.` };
  }
  return { ok: true, choice: decision, comment: cleaned };
}

/** The body of a decision POST: the review page's form, or JSON from a script. */
export function parseDecisionBody(request: HttpRequest): ParsedDecision {
  const type = mediaType(request.headers, "content-type");
  if (type === "application/x-www-form-urlencoded") {
    const form = new URLSearchParams(request.body);
    if (form.getAll("decision").length > 1 || form.getAll("comment").length > 1) {
      return { ok: false, problem: "malformed", message: "The form repeats a field; send one decision." };
    }
    return fromFields(form.get("decision") ?? undefined, form.get("comment") ?? undefined);
  }
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body);
    } catch {
      return { ok: false, problem: "malformed", message: "The body is not valid JSON." };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { ok: false, problem: "malformed", message: 'The body must be a JSON object like {"decision":"approve"}.' };
    }
    const fields = parsed as Record<string, unknown>;
    return fromFields(fields.decision, fields.comment);
  }
  return {
    ok: false,
    problem: "unsupportedMediaType",
    message: "Send the decision as application/x-www-form-urlencoded or application/json.",
  };
}
