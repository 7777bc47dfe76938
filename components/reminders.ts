/**
 * What makes the request-approval function hear of things besides the state machine, both through
 * EventBridge (so no third function, and publishing stays with the function roles):
 * - every execution of this state machine that ends ABORTED, FAILED or TIMED_OUT, so a withdrawn
 *   (stopped) or broken execution closes its request and the approvers are told;
 * - a schedule that sends `{"kind":"sweep"}` every `sweepIntervalMinutes`: the sweeper completes every
 *   settled vote whose delivery did not finish (functions/requestApproval/sweeper.ts);
 * - with `reminderMinutesBeforeExpiry`, a schedule that sends `{"kind":"remind"}`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EXECUTION_STATUS_CHANGE } from "../functions/requestApproval/payload";
import { ENDED_STATUSES } from "../functions/requestApproval/withdrawal";

export interface RequestEventsArgs {
  requestFunction: aws.lambda.Function;
  /** The state machine (or machines) whose executions wait on the request function. */
  stateMachineArn: pulumi.Input<string | string[]>;
  /** Minutes before expiry, largest first; empty: no reminder schedule. */
  reminderMinutesBeforeExpiry: number[];
  /** Minutes between the sweeper's runs. */
  sweepIntervalMinutes: pulumi.Input<number>;
  /** Approval policies are configured: escalations and stage openings share the reminders' schedule, every minute. */
  policyFollowUp?: boolean;
}

/** The EventBridge pattern of this state machine's executions that ended without succeeding. */
export function executionEndedPattern(stateMachineArn: string | string[]) {
  return {
    source: [EXECUTION_STATUS_CHANGE.source],
    "detail-type": [EXECUTION_STATUS_CHANGE.detailType],
    detail: { stateMachineArn: [stateMachineArn].flat(), status: [...ENDED_STATUSES] },
  };
}

/**
 * How often the reminder schedule runs, in minutes. Each reminder time has a window until the next one
 * (or the expiry); a run must land in every window. Every 5 minutes when each window is at least 15 minutes
 * long (a reminder then arrives at most 5 minutes late), otherwise every minute.
 */
export function reminderScheduleMinutes(minutesBeforeExpiry: readonly number[]): 1 | 5 {
  const sorted = [...minutesBeforeExpiry].sort((a, b) => b - a);
  const windows = sorted.map((minutes, index) => minutes - (sorted[index + 1] ?? 0));
  return Math.min(...windows) >= 15 ? 5 : 1;
}

export function reminderScheduleExpression(minutesBeforeExpiry: readonly number[]): string {
  return rateOfMinutes(reminderScheduleMinutes(minutesBeforeExpiry));
}

/** An EventBridge rule that invokes the request function, with the one permission it needs (this rule only). */
function invokeFromRule(name: string, rule: aws.cloudwatch.EventRule, requestFunction: aws.lambda.Function, target: Partial<aws.cloudwatch.EventTargetArgs>, parent: pulumi.Resource) {
  new aws.lambda.Permission(`${name}-invoke`, {
    action: "lambda:InvokeFunction",
    function: requestFunction.name,
    principal: "events.amazonaws.com",
    sourceArn: rule.arn,
  }, { parent });
  new aws.cloudwatch.EventTarget(`${name}-target`, {
    rule: rule.name,
    arn: requestFunction.arn,
    // EventBridge retries a failed delivery (a throttled invoke) for an hour.
    retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 20 },
    ...target,
  }, { parent });
}

/** EventBridge's rate expression for a whole number of minutes. */
export const rateOfMinutes = (minutes: number) => (minutes === 1 ? "rate(1 minute)" : `rate(${minutes} minutes)`);

export function routeRequestEvents(name: string, args: RequestEventsArgs, parent: pulumi.Resource): { reminderSchedule?: aws.cloudwatch.EventRule; sweepSchedule: aws.cloudwatch.EventRule } {
  const ended = new aws.cloudwatch.EventRule(`${name}-execution-ended`, {
    description: "Human approval: an execution stopped (withdrawn), failed or timed out; the request-approval function closes its request",
    eventPattern: pulumi.output(args.stateMachineArn).apply((arn) => JSON.stringify(executionEndedPattern(arn))),
  }, { parent });
  invokeFromRule(`${name}-execution-ended`, ended, args.requestFunction, {}, parent);

  const sweepMinutes = pulumi.output(args.sweepIntervalMinutes);
  const sweepSchedule = new aws.cloudwatch.EventRule(`${name}-sweeper`, {
    description: sweepMinutes.apply((minutes) => `Human approval: complete every settled vote whose delivery did not finish, every ${minutes} minute${minutes === 1 ? "" : "s"}`),
    scheduleExpression: sweepMinutes.apply(rateOfMinutes),
  }, { parent });
  // A missed run is not worth a retry: the next one comes within the interval.
  invokeFromRule(`${name}-sweeper`, sweepSchedule, args.requestFunction, { input: JSON.stringify({ kind: "sweep" }), retryPolicy: { maximumEventAgeInSeconds: sweepMinutes.apply((minutes) => 60 * minutes), maximumRetryAttempts: 2 } }, parent);

  if (args.reminderMinutesBeforeExpiry.length === 0 && !args.policyFollowUp) return { sweepSchedule };
  const reminders = args.reminderMinutesBeforeExpiry.length ? `remind approvers who have not voted, ${args.reminderMinutesBeforeExpiry.join(", ")} minutes before a request expires` : "";
  const schedule = new aws.cloudwatch.EventRule(`${name}-reminders`, {
    description: args.policyFollowUp
      ? `Human approval: ${reminders ? `${reminders}; ` : ""}approval policies: escalate and ask the approvers of a stage that opened`
      : `Human approval: ${reminders}`,
    scheduleExpression: args.policyFollowUp ? rateOfMinutes(1) : reminderScheduleExpression(args.reminderMinutesBeforeExpiry),
  }, { parent });
  invokeFromRule(`${name}-reminders`, schedule, args.requestFunction, { input: JSON.stringify({ kind: "remind" }) }, parent);
  return { reminderSchedule: schedule, sweepSchedule };
}
