/**
 * `POST /slack/interactions`: an approver pressed Approve or Reject in their Slack direct message.
 * Slack's signature first (nothing else is read before it holds), then the message: it must be one this
 * stack sent to an approver, and the person who pressed must be that approver by the workspace's
 * verified address (users.info). The vote then goes through the same lifecycle as a link's vote.
 * The response_url in the payload is only followed after the signature is verified, and only to Slack.
 */
import type { ApprovalRequest } from "../../shared/approvalRequest";
import { effectiveState, type Answer } from "../../shared/lifecycle";
import { describeError } from "../../shared/logger";
import { applyEvent, performEffects } from "../../shared/settle";
import { ephemeralText, statusMessage } from "../../shared/slack/message";
import { SlackSecretsUnavailableError, type SlackSecretsReader } from "../../shared/slack/secrets";
import { verifySlackSignature } from "../../shared/slack/signature";
import { SlackApiError, type SlackApi, type SlackResponse } from "../../shared/slack/webApi";
import type { DecisionDependencies, HttpResponse } from "../decision";
import { mediaType, type HttpRequest } from "../httpEvent";
import { isTransientAwsError } from "../rules";
import { parseButtonPress, type ButtonPress } from "./interaction";

export interface SlackDependencies {
  secrets: SlackSecretsReader;
  api: SlackApi;
}

/** What the route answers: the HTTP status, a stable code when nothing was recorded, and the words for the person. */
interface Reply {
  statusCode: number;
  error?: string;
  text: string;
  requestRef?: string;
}

const NOTHING = "Nothing was recorded.";

function json(reply: Reply): HttpResponse {
  // Slack shows nothing of a block_actions answer; the explanation also goes to the person through response_url.
  const body = { ok: reply.error === undefined, ...(reply.error ? { error: reply.error } : {}), ...(reply.requestRef ? { requestRef: reply.requestRef } : {}), text: reply.text };
  return { statusCode: reply.statusCode, headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" }, body: JSON.stringify(body), isBase64Encoded: false };
}

/** Why a verified press recorded nothing, from the lifecycle's answer; undefined when the vote is recorded. */
function refusalOf(answer: Answer, request: ApprovalRequest, now: Date): { error: string; text: string } | undefined {
  const state = effectiveState(request, now);
  switch (answer.type) {
    case "voteRecorded":
    case "deliveryPending":
    case "show":
      return undefined;
    case "alreadyRecorded":
    case "conflictingVote":
      return { error: "already_voted", text: `Your vote on this request was already recorded; a vote is cast once. ${NOTHING} The request is ${state}.` };
    case "notOpen":
      return { error: state === "expired" || state === "withdrawn" ? state : state === "closed" ? "no_longer_waiting" : "already_decided", text: `This request is ${state}: it no longer takes votes. ${NOTHING}` };
    case "selfApproval":
      return { error: "self_approval", text: `You asked for this approval: you cannot approve your own request. ${NOTHING}` };
    case "notAsked":
      return { error: "not_an_approver", text: `You are not asked to vote on this request. ${NOTHING}` };
  }
}

async function respond(deps: DecisionDependencies, slack: SlackDependencies, press: ButtonPress, response: SlackResponse): Promise<void> {
  if (!press.responseUrl) return;
  await slack.api.respond(press.responseUrl, response).catch((error: unknown) => deps.logger.warn("Slack response_url update failed", { requestRef: press.requestRef, ...describeError(error) }));
}

const tell = (text: string): SlackResponse => ({ ...ephemeralText(text), replace_original: false, response_type: "ephemeral" });

async function vote(deps: DecisionDependencies, slack: SlackDependencies, press: ButtonPress): Promise<Reply> {
  const refuse = async (error: string, text: string): Promise<Reply> => {
    await respond(deps, slack, press, tell(text));
    return { statusCode: 200, error, text, requestRef: press.requestRef };
  };
  const request = await deps.store.get(press.requestRef);
  if (!request) return refuse("not_found", `This request is not known (any more). ${NOTHING}`);
  // The message must be one this stack sent to an approver: that is who the vote may be for.
  const message = request.slackMessages?.find((sent) => sent.channel === press.channel && sent.ts === press.messageTs);
  if (!message) return refuse("not_an_approver", `This message was not sent by this workflow to an approver. ${NOTHING}`);
  if (!deps.approverEmails.includes(message.approver)) return refuse("not_an_approver", `${message.approver} is no longer an approver of this workflow. ${NOTHING}`);
  const user = await slack.api.userInfo(press.userId);
  if (!user?.email || user.email !== message.approver) {
    deps.logger.warn("Slack press by someone who is not the message's approver", { requestRef: request.id, approver: message.approver, slackUser: press.userId });
    return refuse("wrong_approver", `This message is for ${message.approver}; your Slack account's address is not theirs. ${NOTHING}`);
  }

  const applied = await applyEvent(deps, request.id, { type: "vote", approver: message.approver, decision: press.decision, comment: "", verifiedBy: `slack:${press.teamId}`, channel: "slack" });
  if (!applied) return refuse("not_found", `This request is not known (any more). ${NOTHING}`);
  const refusal = refusalOf(applied.step.answer, applied.request, deps.now());
  if (refusal) return refuse(refusal.error, refusal.text);

  const word = press.decision === "approved" ? "approval" : "rejection";
  // First the vote, then (after the delivery, which may take a while) the outcome.
  await respond(deps, slack, press, { ...statusMessage(applied.request, deps.now(), `Your ${word} is recorded.`, deps.stackLabel), replace_original: true });
  const performed = await performEffects(deps, applied.request, applied.step);
  const state = effectiveState(performed.request, deps.now());
  if (performed.request.version !== applied.request.version) {
    await respond(deps, slack, press, { ...statusMessage(performed.request, deps.now(), `Your ${word} is recorded.`, deps.stackLabel), replace_original: true });
  }
  return { statusCode: 200, text: `Your ${word} is recorded; the request is ${state}.`, requestRef: request.id };
}

async function replyTo(deps: DecisionDependencies, slack: SlackDependencies, http: HttpRequest): Promise<Reply> {
  if (http.method !== "POST") return { statusCode: 405, error: "method_not_allowed", text: "Slack interactions are POSTed." };
  if (http.bodyTooLarge) return { statusCode: 413, error: "invalid_request", text: "The request body is too large." };
  const { signingSecret } = await slack.secrets();
  const signature = verifySlackSignature(signingSecret, http.headers, http.body, deps.now());
  if (!signature.ok) {
    deps.logger.warn("Slack request refused", { reason: signature.reason });
    return { statusCode: 401, error: "invalid_signature", text: `The request is not signed by Slack (${signature.reason}, or older than five minutes). ${NOTHING}` };
  }
  if (mediaType(http.headers, "content-type") !== "application/x-www-form-urlencoded") return { statusCode: 415, error: "invalid_request", text: `Slack interactions are form-encoded. ${NOTHING}` };
  const press = parseButtonPress(http.body);
  if (!press) return { statusCode: 400, error: "invalid_request", text: `Not a press of this workflow's Approve or Reject button. ${NOTHING}` };
  return vote(deps, slack, press);
}

/** The whole route: any HTTP request in, a JSON answer out; it never throws. */
export async function handleSlackInteraction(deps: DecisionDependencies, slack: SlackDependencies, http: HttpRequest): Promise<HttpResponse> {
  const started = Date.now();
  let reply: Reply;
  try {
    reply = await replyTo(deps, slack, http);
  } catch (error) {
    deps.logger.error("Slack interaction failed", describeError(error));
    const unavailable = error instanceof SlackSecretsUnavailableError || error instanceof SlackApiError || isTransientAwsError(error);
    reply = { statusCode: unavailable ? 503 : 500, error: unavailable ? "temporarily_unavailable" : "internal_error", text: "Something went wrong on our side; press the button again in a minute (a vote is never recorded twice)." };
  }
  // Named fields only: never the body, the response_url or a link.
  deps.logger.info("Slack interaction handled", { transport: http.transport, requestRef: reply.requestRef, outcome: reply.error ?? "recorded", statusCode: reply.statusCode, durationMs: Date.now() - started });
  return json(reply);
}
