import { canonicalJson } from "../shared/canonicalJson";
import { createHash } from "node:crypto";
import { normaliseAddress } from "../shared/address";
import { buildInputView, type InputView } from "../shared/inputView";
import { oneLine, visible } from "../shared/text";

/** What the approver is asked, as shown in the email and on the review page. */
export interface ApprovalSummary {
  /** The headline: the input's title, or a fallback when it has none that fits. */
  title: string;
  /** The input's description, when it is text that fits; otherwise it is a field of `inputView`. */
  description?: string;
  requestedBy?: string;
  /** Every other field of the input. */
  inputView: InputView;
}

/** A title or description longer than this is shown among the fields instead, where long values fold. */
export const SUMMARY_LIMITS = { title: 200, description: 4_000 } as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted at every depth: the same input always has the same digest. */

/** `sha256:<hex>` of exactly what the approvers were asked, for the calling workflow to compare. */
export function inputDigest(input: unknown): string {
  return "sha256:" + createHash("sha256").update(canonicalJson(input), "utf8").digest("hex");
}

const length = (text: string) => Array.from(text).length;

/**
 * Every field of the input is shown: the title and description as the headline (when they are text
 * that fits), `requestedBy` as "Requested by", `approvers` as who is asked, and every other field,
 * including a title or description that could not be the headline, among the fields below.
 */
export function summariseInput(input: unknown, fallbackTitle: string): ApprovalSummary {
  const fields = isRecord(input) ? input : { input };
  const titleText = typeof fields.title === "string" ? oneLine(fields.title) : "";
  const title = titleText && length(titleText) <= SUMMARY_LIMITS.title ? titleText : undefined;
  const descriptionText = typeof fields.description === "string" ? visible(fields.description, "multiline").trim() : "";
  const description = descriptionText && length(descriptionText) <= SUMMARY_LIMITS.description ? descriptionText : undefined;
  // askedApprovers() refuses a requestedBy that is not an address, and approvers that are not a list of them;
  // the address is stored in its one normalised form.
  const requestedBy = normaliseAddress(fields.requestedBy);
  const shownAbove = new Set([...(title ? ["title"] : []), ...(description ? ["description"] : []), ...(requestedBy ? ["requestedBy"] : []), ...(Array.isArray(fields.approvers) ? ["approvers"] : [])]);
  const headline = title ?? (titleText ? `${Array.from(titleText).slice(0, SUMMARY_LIMITS.title - 1).join("")}…` : oneLine(fallbackTitle));
  return {
    title: headline,
    description,
    requestedBy,
    inputView: buildInputView(Object.fromEntries(Object.entries(fields).filter(([key]) => !shownAbove.has(key)))),
  };
}
