/**
 * The human-approval package: the HumanApprovalWorkflow component, its arguments and the Transport enum.
 * Importing it creates nothing and reads no stack configuration: it only declares. The stand-alone stack
 * (../index.ts) is one program that uses it; any Pulumi program, in any Pulumi language, is another
 * (`pulumi package add`, see docs/component.md).
 *
 * package.json `main` points here (the plugin host and the schema analyzer load the package from it);
 * Pulumi.yaml `main` points at ../index.ts so the CLI runs the stack program, never this file
 * (test/infrastructure/packageEntry.test.ts explains and pins why).
 */
export { HumanApprovalWorkflow } from "./humanApprovalWorkflow";
export type { ApiThrottleSettings, ApprovalPolicySettings, ApprovalRuleSettings, ApprovalStageSettings, HumanApprovalWorkflowArgs, SignInSettings, SlackSettings } from "./humanApprovalWorkflow";
export { Transport } from "./transport";
export { ReasonRequirement, TimeoutOutcome } from "./policyEnums";
export { APPROVAL_DECIDED, APPROVAL_ENTRY, APPROVAL_EXPIRED, buildApprovalStates } from "./approvalStates";
export type { ApprovalStatesArgs } from "./approvalStates";
export { WORKFLOW_DEFAULTS } from "./defaults";
