import { awsApi, SNS, type AwsApi } from "./awsApi";
import { SNS_BUDGET } from "./awsClients";
import type { OutgoingEmail } from "./email";

export type Publish = (email: OutgoingEmail) => Promise<void>;

/**
 * SNS Publish with the `approver` message attribute: each approver's email subscription has the
 * filter policy {"approver": ["<address>"]}, so a message reaches exactly the addresses it names.
 * One address: a String; several (a notice): a String.Array, which matches if any element matches.
 */
/**
 * Outcome notices go out at most once: SNS takes no idempotency key (and FIFO topics send no email), so a
 * Publish whose answer was lost is not sent again. A notice is news, not a link: one lost to a dropped
 * connection is logged; the page of every link shows the outcome anyway.
 */
export function noticePublisher(topicArn: string): Publish {
  return snsPublisher(topicArn, awsApi(SNS, SNS_BUDGET, process.env, { atMostOnce: true }));
}

export function snsPublisher(topicArn: string, sns: AwsApi = awsApi(SNS, SNS_BUDGET)): Publish {
  return async ({ subject, message, recipients }) => {
    if (recipients.length === 0) return;
    const approver = recipients.length === 1
      ? { DataType: "String", StringValue: recipients[0] }
      : { DataType: "String.Array", StringValue: JSON.stringify(recipients) };
    // The query protocol's flattened form of Publish's input.
    await sns.query("Publish", {
      TopicArn: topicArn,
      Subject: subject,
      Message: message,
      "MessageAttributes.entry.1.Name": "approver",
      "MessageAttributes.entry.1.Value.DataType": approver.DataType,
      "MessageAttributes.entry.1.Value.StringValue": approver.StringValue,
    });
  };
}
