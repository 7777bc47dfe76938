"""One approval workflow, from the human-approval package (pulumi package add ../..)."""
import pulumi
import pulumi_human_approval as human_approval

approvals = human_approval.HumanApprovalWorkflow(
    "approvals",
    transport=human_approval.Transport.HTTP_API,
    approver_emails=["alice@example.com", "bob@example.com"],
    required_approvals=2,
    approval_timeout_minutes=240,
    api_throttle=human_approval.ApiThrottleSettingsArgs(rate_limit=5, burst_limit=10),
    reminder_minutes_before_expiry=[60],
    alarm_email="oncall@example.com",
)

# Start executions of this state machine to ask for approval.
pulumi.export("stateMachineArn", approvals.state_machine_arn)
pulumi.export("callbackUrl", approvals.callback_url)
pulumi.export("approvalsTable", approvals.approvals_table_name)
