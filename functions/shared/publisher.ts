import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { OutgoingEmail } from "./email";

export type Publish = (email: OutgoingEmail) => Promise<void>;

/**
 * SNS Publish with the `approver` message attribute: each approver's email subscription has the
 * filter policy {"approver": ["<address>"]}, so a message reaches exactly the addresses it names.
 * One address: a String; several (a notice): a String.Array, which matches if any element matches.
 */
export function snsPublisher(client: SNSClient, topicArn: string): Publish {
  return async ({ subject, message, recipients }) => {
    if (recipients.length === 0) return;
    const approver = recipients.length === 1
      ? { DataType: "String", StringValue: recipients[0] }
      : { DataType: "String.Array", StringValue: JSON.stringify(recipients) };
    await client.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message, MessageAttributes: { approver } }));
  };
}
