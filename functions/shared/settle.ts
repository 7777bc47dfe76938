/**
 * Applying one lifecycle event to a stored request and performing what it asks for: the decision function
 * (a person's view or vote) and the sweeper (request function, on a schedule) both settle requests this way.
 */
import type { ApprovalRequest } from "./approvalRequest";
import { deliver, type Workflow } from "./delivery";
import { composeOutcomeNotice } from "./email";
import { transition, type Answer, type LifecycleEvent, type Transition } from "./lifecycle";
import { describeError, type Logger } from "./logger";
import type { Publish } from "./publisher";
import type { RequestStore } from "./requestStore";

export interface SettleDependencies {
  store: RequestStore;
  /** Step Functions: SendTaskSuccess, and the execution history to confirm what it received. */
  workflow: Workflow;
  /** Outcome notices to the approvers. */
  publish: Publish;
  /** The stack's approvers now, lower case (who hears of the outcome). */
  approverEmails: string[];
  now(): Date;
  logger: Logger;
  /** Also tells the outcome where the request was asked besides email (Slack: every asked approver's message updated). */
  announceOutcome?: (request: ApprovalRequest, context: { now(): Date; logger: Logger }) => Promise<void>;
}

/** Optimistic-lock retries: each loser of a race reads the request again and re-decides. */
const MAX_WRITE_ATTEMPTS = 8;

/**
 * Applies one event with the optimistic lock: read, transition, conditional write; the loser of a
 * race reads again. Returns the request as stored afterwards and what the transition asked for.
 * `lastWritten`: the request as this invocation just wrote it; the first attempt starts from it instead
 * of reading it back (the write's version condition still catches anyone who wrote since).
 */
export async function applyEvent(deps: SettleDependencies, requestRef: string, event: LifecycleEvent, lastWritten?: ApprovalRequest): Promise<{ request: ApprovalRequest; step: Transition } | undefined> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const request = attempt === 0 && lastWritten ? lastWritten : await deps.store.get(requestRef);
    if (!request) return undefined;
    const step = transition(request, event, { now: deps.now(), stackApprovers: deps.approverEmails });
    if (!step.next) return { request, step };
    if (await deps.store.save(step.next, request.version)) return { request: step.next, step };
  }
  throw Object.assign(new Error("The request kept changing under concurrent writes."), { name: "ThrottlingException" });
}

/** Performs a transition's effects: delivery (and what it reveals), then outcome notices. */
export async function performEffects(deps: SettleDependencies, request: ApprovalRequest, step: Transition): Promise<{ request: ApprovalRequest; answer?: Answer }> {
  let current = request;
  let answer: Answer | undefined;
  const notices = step.effects.filter((effect) => effect.type === "notifyOutcome");
  for (const effect of step.effects) {
    if (effect.type !== "deliver") continue;
    const report = await deliver(deps.workflow, current, effect.output, deps.logger);
    let delivered: Awaited<ReturnType<typeof applyEvent>>;
    try {
      delivered = await applyEvent(deps, current.id, { type: "delivery", report }, current);
    } catch (error) {
      // The workflow's side is settled; only our record of it failed. Tell the truth from the report: the
      // record stays SETTLING, and the next sweep (or visit) finds the receipt in the history and records it.
      deps.logger.warn("Delivery not recorded; the next sweep or visit records it", { requestRef: current.id, report: report.type, ...describeError(error) });
      const told = transition(current, { type: "delivery", report }, { now: deps.now(), stackApprovers: deps.approverEmails });
      return { request: told.next ?? current, answer: told.answer.type === "deliveryPending" ? told.answer : undefined };
    }
    if (!delivered) break;
    current = delivered.request;
    if (delivered.step.answer.type === "deliveryPending") answer = delivered.step.answer;
    notices.push(...delivered.step.effects.filter((next) => next.type === "notifyOutcome"));
    deps.logger.info("Decision delivery", { requestRef: current.id, report: report.type, status: current.status });
  }
  for (const notice of notices) {
    if (notice.type !== "notifyOutcome") continue;
    // The decision stands whether or not the notice goes out; a lost notice is logged, not fatal.
    await deps.publish(composeOutcomeNotice(current, notice.recipients, deps.now())).catch((error) => deps.logger.warn("Outcome notice not sent", { requestRef: current.id, ...describeError(error) }));
  }
  if (notices.length > 0) await deps.announceOutcome?.(current, deps).catch((error) => deps.logger.warn("Outcome not announced", { requestRef: current.id, ...describeError(error) }));
  return { request: current, answer };
}
