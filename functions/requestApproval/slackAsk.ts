/**
 * Asking in Slack, besides the email: each asked approver's Slack member (by the approver's address),
 * a direct message with the request and the Approve and Reject buttons. At most once per approver: the
 * message goes only after this invocation claimed it in the request record, so a retried invocation
 * never sends a second one. An approver Slack cannot reach is recorded as such; their email stands.
 */
import type { ApprovalRequest } from "../shared/approvalRequest";
import { forEachBounded } from "../shared/boundedFanOut";
import { reviewLinks } from "../shared/links";
import { describeError, type Logger } from "../shared/logger";
import type { RequestStore } from "../shared/requestStore";
import { SLACK_FAN_OUT } from "../shared/slack/environment";
import { askMessage } from "../shared/slack/message";
import { SlackSecretsUnavailableError } from "../shared/slack/secrets";
import { SlackApiError, type SlackApi } from "../shared/slack/webApi";

export interface SlackAskDependencies {
  store: RequestStore;
  logger: Logger;
  callbackUrl: string;
  slack: { api: SlackApi; stackLabel?: string };
}

export const slackClaimKey = (approver: string) => `slack:${approver}`;

/** Sends the approver their message; answers how they were reached ("slack"), or why not. */
async function askOne(deps: SlackAskDependencies, request: ApprovalRequest, approver: string, linkId: () => Promise<string>, now: Date): Promise<string> {
  if (!(await deps.store.claimNotified(request.id, slackClaimKey(approver)))) return "claimed-before";
  const { api, stackLabel } = deps.slack;
  try {
    const user = await api.lookupByEmail(approver);
    if (!user) {
      await deps.store.recordSlackMessage(request.id, { approver, unreached: "no Slack member has this address" });
      return "not-in-slack";
    }
    // The message carries the approver's own link: only a member whose verified address is exactly theirs gets it.
    if (user.email !== approver) {
      await deps.store.recordSlackMessage(request.id, { approver, unreached: "the Slack member's address is not exactly this one" });
      return "not-in-slack";
    }
    const channel = await api.openDirectMessage(user.id);
    const posted = await api.postMessage(channel, askMessage(request, approver, reviewLinks(deps.callbackUrl, await linkId()).review, now, stackLabel));
    await deps.store.recordSlackMessage(request.id, { approver, channel: posted.channel, ts: posted.ts, userId: user.id });
    return "slack";
  } catch (error) {
    // Slack (or its secret) unavailable: the approver has the email, and the request goes on. Anything else
    // (the table) fails the invocation, and the state machine's retry sends what is still unsent.
    if (!(error instanceof SlackApiError) && !(error instanceof SlackSecretsUnavailableError)) throw error;
    deps.logger.warn("Slack message not sent; the approver has the email", { requestRef: request.id, approver, ...describeError(error) });
    await deps.store.recordSlackMessage(request.id, { approver, unreached: error instanceof SlackApiError ? `Slack ${error.method}: ${error.code}` : "the Slack secret could not be read" });
    return "slack-failed";
  }
}

export async function askInSlack(deps: SlackAskDependencies, request: ApprovalRequest, linkOf: (approver: string) => Promise<string>, now: Date): Promise<number> {
  const reached: Record<string, string[]> = {};
  const waiting = request.approvers.filter((approver) => !request.notified.includes(slackClaimKey(approver)));
  await forEachBounded(waiting, SLACK_FAN_OUT, async (approver) => {
    const how = await askOne(deps, request, approver, () => linkOf(approver), now);
    (reached[how] ??= []).push(approver);
  });
  if (waiting.length > 0) {
    // Which channel reached whom: every asked approver had the email; these also (or not) a Slack message.
    deps.logger.info("Approval asked in Slack", { requestRef: request.id, ...Object.fromEntries(Object.entries(reached).map(([how, approvers]) => [how, approvers.join(",")])) });
  }
  return reached.slack?.length ?? 0;
}
