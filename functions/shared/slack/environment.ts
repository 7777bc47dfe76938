/** Slack for either function when the stack configures it (SLACK_SECRET_ARN); undefined otherwise. */
import { requireEnv, type Environment } from "../env";
import type { Logger } from "../logger";
import type { ApprovalRequest } from "../approvalRequest";
import { describeError } from "../logger";
import { forEachBounded } from "../boundedFanOut";
import { statusMessage } from "./message";
import { secretsManagerSlackSecrets, type SlackSecretsReader } from "./secrets";
import { slackWebApi, type SlackApi } from "./webApi";

export interface SlackConnection {
  secrets: SlackSecretsReader;
  api: SlackApi;
}

export function slackFromEnvironment(env: Environment): SlackConnection | undefined {
  if (env.SLACK_SECRET_ARN === undefined || env.SLACK_SECRET_ARN.trim() === "") return undefined;
  const secrets = secretsManagerSlackSecrets(requireEnv(env, "SLACK_SECRET_ARN", "the ARN of the Secrets Manager secret holding the Slack signing secret and bot token"));
  // SLACK_API_URL: local mode and tests only; the component never sets it.
  const baseUrl = env.SLACK_API_URL?.trim() || undefined;
  return { secrets, api: slackWebApi({ botToken: async () => (await secrets()).botToken, baseUrl }) };
}

/** Slack calls at a time: Slack's per-method rate limits are per workspace. */
export const SLACK_FAN_OUT = 4;

/** On settle, expiry or withdrawal: every asked approver's message shows the outcome, without buttons. */
export function slackOutcomeAnnouncer(api: SlackApi, stackLabel?: string): (request: ApprovalRequest, context: { now(): Date; logger: Logger }) => Promise<void> {
  return async (request, { now, logger }) => {
    const sent = (request.slackMessages ?? []).filter((record) => record.channel && record.ts);
    await forEachBounded(sent, SLACK_FAN_OUT, async (record) => {
      await api.updateMessage(record.channel!, record.ts!, statusMessage(request, now(), undefined, stackLabel)).catch((error: unknown) => logger.warn("Slack message not updated", { requestRef: request.id, approver: record.approver, ...describeError(error) }));
    });
  };
}
