/**
 * Reading one Slack interaction request: the form field `payload` holding Slack's JSON. Only a
 * `block_actions` press of our Approve or Reject button is a vote; everything else is malformed here.
 * Every field is read defensively: the signature says Slack sent it, not that it has our shape.
 */
import { REQUEST_REF_PATTERN, type Decision } from "../../shared/approvalRequest";
import { SLACK_ACTIONS } from "../../shared/slack/message";

export interface ButtonPress {
  requestRef: string;
  decision: Decision;
  /** Who pressed (Slack user id) and in which workspace. */
  userId: string;
  teamId: string;
  /** The message the button belongs to: the DM channel and the message's ts. */
  channel: string;
  messageTs: string;
  /** Where Slack takes updates of this message for 30 minutes; only followed on Slack's own host. */
  responseUrl?: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const SLACK_ID = /^[A-Z0-9]{2,32}$/;
const MESSAGE_TS = /^\d{1,12}\.\d{1,9}$/;
const idOf = (value: unknown): string | undefined => (isObject(value) && typeof value.id === "string" && SLACK_ID.test(value.id) ? value.id : undefined);

export function parseButtonPress(body: string): ButtonPress | undefined {
  const raw = new URLSearchParams(body).get("payload");
  if (raw === null) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObject(payload) || payload.type !== "block_actions" || !Array.isArray(payload.actions) || payload.actions.length !== 1) return undefined;
  const action = payload.actions[0];
  if (!isObject(action) || typeof action.value !== "string" || !REQUEST_REF_PATTERN.test(action.value)) return undefined;
  const decision = action.action_id === SLACK_ACTIONS.approve ? "approved" : action.action_id === SLACK_ACTIONS.reject ? "rejected" : undefined;
  const userId = idOf(payload.user);
  const teamId = idOf(payload.team);
  const channel = idOf(payload.channel) ?? (isObject(payload.container) && typeof payload.container.channel_id === "string" && SLACK_ID.test(payload.container.channel_id) ? payload.container.channel_id : undefined);
  const messageTs = isObject(payload.container) && typeof payload.container.message_ts === "string" ? payload.container.message_ts : isObject(payload.message) && typeof payload.message.ts === "string" ? payload.message.ts : undefined;
  if (!decision || !userId || !teamId || !channel || !messageTs || !MESSAGE_TS.test(messageTs)) return undefined;
  return {
    requestRef: action.value,
    decision,
    userId,
    teamId,
    channel,
    messageTs,
    ...(typeof payload.response_url === "string" && payload.response_url.length <= 512 ? { responseUrl: payload.response_url } : {}),
  };
}
