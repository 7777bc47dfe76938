import { normaliseAddress } from "../shared/address";
import { linkKey, requestRefFor, type ApprovalRequest } from "../shared/approvalRequest";
import { composeApprovalEmail, composeOutcomeNotice, composeRequesterNotice } from "../shared/email";
import { forEachBounded } from "../shared/boundedFanOut";
import { effectiveState, transition } from "../shared/lifecycle";
import { askedSoFar, narrowPolicy, policyAddresses, type ApprovalPolicy } from "../shared/policy";
import { deriveLinkId, type MacFunction } from "../shared/links";
import type { Logger } from "../shared/logger";
import type { Publish } from "../shared/publisher";
import type { RequestStore } from "../shared/requestStore";
import { InvalidApprovalRequest, type ExpiryPayload, type RequestApprovalPayload } from "./payload";
import { askInSlack, type SlackAskDependencies } from "./slackAsk";
import { inputDigest, summariseInput } from "./summary";

export interface RequestApprovalDependencies {
  store: RequestStore;
  /** SNS Publish with the `approver` attribute. */
  publish: Publish;
  /** MAC with the stack's KMS key; the only way to make a link. */
  mac: MacFunction;
  /** Public base URL of the decision endpoint, without a trailing slash. */
  callbackUrl: string;
  /** Equal to the task's TimeoutSeconds, so the links expire when the workflow stops waiting. */
  approvalTimeoutSeconds: number;
  auditRetentionDays: number;
  subjectTemplate: string;
  /** The stack's approvers (config `approverEmails`), lower case. */
  approverEmails: string[];
  requiredApprovals: number;
  allowSelfApproval: boolean;
  /** The stack's named approval policies (APPROVAL_POLICIES); unset: every request follows requiredApprovals of approverEmails. */
  policies?: Record<string, ApprovalPolicy>;
  now(): Date;
  logger: Logger;
  /** Slack (when the stack configures it): each asked approver also gets a direct message. */
  slack?: SlackAskDependencies["slack"];
  /** Tells the outcome in Slack too (expiry, withdrawal, the sweeper's deliveries). */
  announceOutcome?: (request: ApprovalRequest, context: { now(): Date; logger: Logger }) => Promise<void>;
}

/** What the function returns: it lands in the execution history (`TaskSubmitted`), so it holds no link. */
export interface RequestApprovalResult {
  requestRef: string;
  /** Emails sent by this invocation (0 when a retry found them sent). */
  emailsSent: number;
}


/** Who is asked to vote on this request, or the reason it can never settle. */
export function askedApprovers(input: unknown, requestedBy: string | undefined, deps: Pick<RequestApprovalDependencies, "approverEmails" | "requiredApprovals" | "allowSelfApproval">): string[] {
  const fields = (typeof input === "object" && input !== null && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
  // One stored form (printable ASCII, lower case): an invisible or look-alike character could make the
  // requester pass for someone else and slip past separation of duties.
  if (fields.requestedBy !== undefined && normaliseAddress(fields.requestedBy) === undefined) {
    throw new InvalidApprovalRequest(`Input requestedBy is ${JSON.stringify(fields.requestedBy)}: it must be an email address in printable ASCII (no invisible or look-alike characters).`);
  }
  let asked = deps.approverEmails;
  if (fields.approvers !== undefined) {
    const listed = Array.isArray(fields.approvers) ? fields.approvers.map(normaliseAddress) : [];
    if (listed.length === 0 || listed.includes(undefined)) {
      throw new InvalidApprovalRequest(`Input approvers must be a non-empty list of email addresses (printable ASCII) from the stack's approverEmails (${deps.approverEmails.join(", ")}).`);
    }
    const wanted = [...new Set(listed as string[])];
    const unknown = wanted.filter((address) => !deps.approverEmails.includes(address));
    if (unknown.length > 0) {
      throw new InvalidApprovalRequest(`Input approvers lists ${unknown.join(", ")}, which ${unknown.length === 1 ? "is not an approver" : "are not approvers"} of this stack (approverEmails: ${deps.approverEmails.join(", ")}). No email was sent.`);
    }
    asked = wanted;
  }
  const eligible = deps.allowSelfApproval || !requestedBy ? asked : asked.filter((address) => address !== requestedBy);
  if (eligible.length < deps.requiredApprovals) {
    const why = eligible.length < asked.length ? ` (${requestedBy} asked for it and may not approve their own request)` : "";
    throw new InvalidApprovalRequest(`This request needs ${deps.requiredApprovals} approvals, but only ${eligible.length} approver${eligible.length === 1 ? "" : "s"} can vote on it${why}. No email was sent.`);
  }
  return eligible;
}

/** The policy an input names (or the stack's policy named "default"), narrowed by the input; undefined: today's one rule. */
export function chosenPolicy(input: unknown, requestedBy: string | undefined, deps: Pick<RequestApprovalDependencies, "policies" | "allowSelfApproval">): ApprovalPolicy | undefined {
  const fields = (typeof input === "object" && input !== null && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
  const policies = deps.policies ?? {};
  const names = Object.keys(policies);
  if (fields.policy === undefined && !policies.default) return undefined;
  const name = fields.policy ?? "default";
  if (typeof name !== "string" || !Object.hasOwn(policies, name)) {
    throw new InvalidApprovalRequest(`Input policy is ${JSON.stringify(name)}: it must name one of this stack's approval policies (${names.join(", ") || "none defined"}). No email was sent.`);
  }
  const policy = policies[name];
  let named: string[] | undefined;
  if (fields.approvers !== undefined) {
    // The input may narrow who is asked, never add anyone, lower a count or skip a stage.
    const listed = Array.isArray(fields.approvers) ? fields.approvers.map(normaliseAddress) : [];
    const known = policyAddresses(policy);
    if (listed.length === 0 || listed.includes(undefined)) throw new InvalidApprovalRequest(`Input approvers must be a non-empty list of email addresses (printable ASCII) from policy ${name} (${known.join(", ")}).`);
    const unknown = (listed as string[]).filter((address) => !known.includes(address));
    if (unknown.length > 0) throw new InvalidApprovalRequest(`Input approvers lists ${unknown.join(", ")}, which ${unknown.length === 1 ? "is not an approver" : "are not approvers"} of policy ${name} (${known.join(", ")}). No email was sent.`);
    named = listed as string[];
  }
  const narrowed = narrowPolicy(policy, named, requestedBy, deps.allowSelfApproval);
  if ("refused" in narrowed) throw new InvalidApprovalRequest(narrowed.refused);
  return narrowed.policy;
}

export function newApprovalRequest(payload: RequestApprovalPayload, deps: Omit<RequestApprovalDependencies, "store" | "publish" | "mac" | "logger" | "now">, now: Date): ApprovalRequest {
  const summary = summariseInput(payload.input, `Approval requested by ${payload.stateMachine.name}`);
  const policy = chosenPolicy(payload.input, summary.requestedBy, deps);
  const approvers = policy ? askedSoFar(policy, 1, { requestedBy: summary.requestedBy, allowSelfApproval: deps.allowSelfApproval }) : askedApprovers(payload.input, summary.requestedBy, deps);
  const expiresAt = new Date(now.getTime() + deps.approvalTimeoutSeconds * 1000);
  return {
    id: requestRefFor(payload.execution.id),
    taskToken: payload.taskToken,
    executionArn: payload.execution.id,
    executionName: payload.execution.name,
    stateMachineName: payload.stateMachine.name,
    ...summary,
    inputDigest: inputDigest(payload.input),
    approvers,
    // With a policy, every rule's count together (the page and the audit read the policy itself).
    requiredApprovals: policy ? policy.stages.flatMap((stage) => stage.rules).reduce((sum, rule) => sum + rule.required, 0) : deps.requiredApprovals,
    allowSelfApproval: deps.allowSelfApproval,
    ...(policy ? { policy, policyProgress: { stageOpenedAt: [now.toISOString()], escalations: [] } } : {}),
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    status: "PENDING",
    version: 1,
    votes: [],
    notified: [],
    ttl: Math.floor(expiresAt.getTime() / 1000) + deps.auditRetentionDays * 86_400,
  };
}

/** Makes an approver's link and stores its item; answers the link id (for the email only). */
async function storeLink(deps: Pick<RequestApprovalDependencies, "mac" | "store">, request: ApprovalRequest, approver: string): Promise<string> {
  const linkId = await deriveLinkId(deps.mac, request.id, approver);
  await deps.store.putLink({ id: linkKey(linkId), requestRef: request.id, approver, ttl: request.ttl });
  return linkId;
}

const requesterKey = (address: string) => `requester:${address}`;

/**
 * Approvers handled at a time (link, email, record): a request to many approvers stays under the services'
 * rates (KMS and SNS throttle per account) instead of sending every call at once.
 */
export const APPROVER_FAN_OUT = 5;

/**
 * Stores the request, then emails each approver their own link. Idempotent per approver: a retry
 * finds who was already emailed and emails only the others, with the same links (they are MACs of
 * the request and the approver). A request that is no longer pending is never emailed again.
 * Store, KMS and SNS errors propagate so that the state machine's Retry applies.
 */
export async function requestApproval(deps: RequestApprovalDependencies, payload: RequestApprovalPayload): Promise<RequestApprovalResult> {
  const started = Date.now();
  const now = deps.now();
  const fresh = newApprovalRequest(payload, deps, now);
  // The links are MACs of the request and the approver, the same whether this call creates the request or
  // finds it, and a link item is written once and never rewritten: making and storing the first few goes on
  // while the request is stored, two round trips less before the first email. A link item without its request
  // (this write failed) opens a "not found" page until the state machine's retry stores the request.
  const storedLinks = new Map<string, Promise<string>>();
  const linkOf = (request: ApprovalRequest, approver: string) => {
    if (!storedLinks.has(approver)) {
      const linkId = storeLink(deps, request, approver);
      linkId.catch(() => undefined); // awaited below, or not needed
      storedLinks.set(approver, linkId);
    }
    return storedLinks.get(approver)!;
  };
  for (const approver of fresh.approvers.slice(0, APPROVER_FAN_OUT)) void linkOf(fresh, approver);
  const stored = await deps.store.createIfAbsent(fresh).catch(async (error: unknown) => {
    await Promise.allSettled(storedLinks.values()); // nothing of this invocation runs on into a later one
    throw error;
  });
  const request = stored.created ? fresh : stored.existing;
  const logFields = { requestRef: request.id, executionName: request.executionName, stateMachineName: request.stateMachineName };
  if (!stored.created && (request.inputDigest !== fresh.inputDigest || request.executionArn !== fresh.executionArn)) {
    // Someone allowed to invoke this function stored a request under this execution's (predictable) name
    // first: what the approvers were shown is not what this execution runs. Never reuse it.
    deps.logger.warn("Approval request refused: another request is stored under this execution", { ...logFields, outcome: "refused", reason: "stored request differs" });
    await Promise.allSettled(storedLinks.values()); // nothing of this invocation runs on into a later one
    throw new InvalidApprovalRequest(`A request with another input is already stored for execution ${payload.execution.name}: it was not made by this execution, and its approvers never saw this execution's input. Nobody was emailed for this execution; start it again under a name nobody could guess.`);
  }

  const state = effectiveState(request, now);
  if (!stored.created && (state === "pending" || state === "settling") && request.taskToken !== payload.taskToken) {
    // Step Functions retried the task: only the newest attempt's token can be answered.
    await deps.store.replaceTaskToken(request.id, payload.taskToken);
  }
  if (state !== "pending") {
    deps.logger.info("Approval request no longer pending; nobody emailed", { ...logFields, outcome: "not-pending", state });
    await Promise.allSettled(storedLinks.values()); // nothing of this invocation runs on into a later one
    return { requestRef: request.id, emailsSent: 0 };
  }

  let emailsSent = await emailAskedApprovers(deps, request, now, linkOf).catch(async (error: unknown) => {
    await Promise.allSettled(storedLinks.values());
    throw error;
  });
  const requester = request.requestedBy;
  if (requester && !request.approvers.includes(requester) && deps.approverEmails.includes(requester) && !request.notified.includes(requesterKey(requester))) {
    await deps.publish(composeRequesterNotice(request, requester, now));
    await deps.store.markNotified(request.id, requesterKey(requester));
    emailsSent++;
  }
  const slackMessagesSent = deps.slack ? await askInSlack({ ...deps, slack: deps.slack }, request, (approver) => linkOf(request, approver), now) : 0;
  deps.logger.info("Approval requested", {
    ...logFields,
    outcome: stored.created ? "requested" : "requested-on-retry",
    approvers: request.approvers.length,
    requiredApprovals: request.requiredApprovals,
    emailsSent,
    ...(deps.slack ? { slackMessagesSent } : {}),
    expiresAt: request.expiresAt,
    durationMs: Date.now() - started,
  });
  await Promise.allSettled(storedLinks.values()); // a retry's links of approvers emailed before: settled too
  return { requestRef: request.id, emailsSent };
}

/**
 * Emails every asked approver not yet emailed their own link, and records each as notified: the first emails
 * of a request, and (on the scheduled path) the approvers of a stage that opened or of a backup group.
 */
export async function emailAskedApprovers(deps: Pick<RequestApprovalDependencies, "publish" | "store" | "callbackUrl" | "subjectTemplate">, request: ApprovalRequest, now: Date, linkOf: (request: ApprovalRequest, approver: string) => Promise<string>): Promise<number> {
  let emailsSent = 0;
  await forEachBounded(request.approvers.filter((address) => !request.notified.includes(address)), APPROVER_FAN_OUT, async (approver) => {
    const linkId = await linkOf(request, approver);
    await deps.publish(composeApprovalEmail(request, approver, linkId, deps.callbackUrl, deps.subjectTemplate, now));
    await deps.store.markNotified(request.id, approver);
    emailsSent++;
  });
  return emailsSent;
}

/** A link made and stored for the scheduled path (the request's own invocation makes them ahead, see requestApproval). */
export const linkFor = (deps: Pick<RequestApprovalDependencies, "mac" | "store">) => (request: ApprovalRequest, approver: string) => storeLink(deps, request, approver);

/** What the workflow's timeout path receives: the policy's timeout decision, or "expired". */
function timeoutApproval(request: ApprovalRequest): { decision: string } {
  const output = request.settlement?.output;
  return request.status === "REJECTED" && output?.decidedBy === "timeout" ? output : { decision: "expired" };
}

/** The workflow took its timeout path: close the request and tell the approvers. */
export async function recordExpiry(deps: Pick<RequestApprovalDependencies, "store" | "publish" | "approverEmails" | "now" | "logger" | "announceOutcome">, payload: ExpiryPayload): Promise<{ requestRef: string; status: string; approval?: { decision: string } }> {
  const requestRef = requestRefFor(payload.execution.id);
  for (let attempt = 0; attempt < 5; attempt++) {
    const request = await deps.store.get(requestRef);
    if (!request) return { requestRef, status: "unknown" };
    // Only a request with a policy says more than its status (the state machine reads it when a policy rejects on timeout).
    const withApproval = (stored: ApprovalRequest) => (stored.policy ? { approval: timeoutApproval(stored) } : {});
    const now = deps.now();
    const step = transition(request, { type: "expired" }, { now, stackApprovers: deps.approverEmails });
    if (!step.next) return { requestRef, status: request.status, ...withApproval(request) };
    if (!(await deps.store.save(step.next, request.version))) continue; // a vote landed meanwhile: read again
    for (const effect of step.effects) {
      if (effect.type === "notifyOutcome") await deps.publish(composeOutcomeNotice(step.next, effect.recipients, now));
    }
    await deps.announceOutcome?.(step.next, deps).catch(() => undefined); // logged by the announcer; the email went
    deps.logger.info("Approval request expired", { requestRef, outcome: step.next.status === "REJECTED" ? "rejected-on-timeout" : "expired", votes: request.votes.length });
    return { requestRef, status: step.next.status, ...withApproval(step.next) };
  }
  throw new Error("The request kept changing while it was being closed; the state machine retries.");
}
