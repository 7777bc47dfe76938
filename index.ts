/**
 * The human-approval stack: read the stack configuration, build the workflow,
 * export its outputs. Wiring only; see components/ and stacks/.
 */
import * as pulumi from "@pulumi/pulumi";
// The stack is one consumer of the package entry, like any program that adds the package.
import { HumanApprovalWorkflow } from "./components";
import { loadStackConfig } from "./stacks/loadStackConfig";

const config = loadStackConfig();

const workflow = new HumanApprovalWorkflow("human-approval", {
  transport: config.transport,
  approverEmails: config.approverEmails,
  approvalTimeoutMinutes: config.approvalTimeoutMinutes,
  logRetentionDays: config.logRetentionDays,
  auditRetentionDays: config.auditRetentionDays,
  emailSubject: config.emailSubject,
  apiThrottle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
  decisionReservedConcurrency: config.decisionReservedConcurrency,
  approvedFunctionArn: config.approvedFunctionArn,
  requiredApprovals: config.requiredApprovals,
  allowSelfApproval: config.allowSelfApproval,
  tableDeletionProtection: config.tableDeletionProtection,
  protectState: config.protectState,
  reminderMinutesBeforeExpiry: config.reminderMinutesBeforeExpiry,
  sweepIntervalMinutes: config.sweepIntervalMinutes,
  alarmEmail: config.alarmEmail,
  alarmTopicArn: config.alarmTopicArn,
  deployerArn: config.deployerArn,
  breakGlassRoleArn: config.breakGlassRoleArn,
  signIn: config.signIn,
  slack: config.slack,
  approvalPolicies: config.approvalPolicies,
  // The physical names this stack has always had (log groups, alarms).
  namePrefix: `${pulumi.getProject()}-${pulumi.getStack()}`,
});

/** Which transport serves the links: restApi, httpApi or functionUrl. */
export const transport = workflow.transport;
/** Public base URL of the decision endpoint; links are `<callbackUrl>/requests/<id>`. */
export const callbackUrl = workflow.callbackUrl;
/** Start executions of this state machine to ask for approval. */
export const stateMachineArn = workflow.stateMachineArn;
/** The SNS topic approvers are subscribed to. */
export const topicArn = workflow.topicArn;
/** Name of the DynamoDB table holding approval requests (the audit trail). */
export const approvalsTable = workflow.approvalsTableName;
