/**
 * The things a decision rests on, closed like the link key: the approvals table (the verify step checks
 * the workflow's output against it) and the topic's subscriptions (each approver's filter policy is what
 * keeps the other approvers' links out of their inbox). See approvalsTablePolicy() and topicPolicy().
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { approvalsTablePolicy, type TrustedPrincipals } from "./policies";

export interface TrustAnchorArgs {
  /**
   * The principal that manages the table and the topic's subscriptions (an IAM role or user ARN, as
   * `aws:PrincipalArn` names it). Default: whoever runs `pulumi up` (for an assumed role, the role).
   */
  deployerArn?: pulumi.Input<string>;
  /** An operator role that may also write the approvals table and subscribe approvers, for a documented repair. */
  breakGlassRoleArn?: pulumi.Input<string>;
}

/** Who runs `pulumi up`: the session's issuer (an assumed role's role ARN, with its path), unless configured. */
export function trustedPrincipals(args: TrustAnchorArgs, partition: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Output<TrustedPrincipals> {
  const caller = aws.getCallerIdentityOutput({}, { parent });
  const deployer = args.deployerArn ? pulumi.output(args.deployerArn) : aws.iam.getSessionContextOutput({ arn: caller.arn }, { parent }).issuerArn;
  return pulumi.all([deployer, caller.accountId, partition, args.breakGlassRoleArn]).apply(([deployerArn, account, awsPartition, breakGlass]) => ({
    deployer: deployerArn,
    ...(breakGlass ? { breakGlass } : {}),
    accountRoot: `arn:${awsPartition}:iam::${account}:root`,
  }));
}

/** Only the function roles (and the break-glass role) write the table; only the deployer manages it. */
export function protectApprovalsTable(name: string, args: { table: aws.dynamodb.Table; writerRoles: pulumi.Input<string>[]; trusted: pulumi.Output<TrustedPrincipals> }, parent: pulumi.Resource): aws.dynamodb.ResourcePolicy {
  return new aws.dynamodb.ResourcePolicy(`${name}-requests-write-deny`, {
    resourceArn: args.table.arn,
    // Not confirmRemoveSelfResourceAccess: if the configured deployer is not who runs `pulumi up`, AWS refuses
    // the policy rather than lock the running principal out of it.
    policy: pulumi.all([args.table.arn, pulumi.all(args.writerRoles), args.trusted]).apply(([table, writerRoles, trusted]) => JSON.stringify(approvalsTablePolicy({ table, writerRoles, trusted }))),
  }, { parent });
}
