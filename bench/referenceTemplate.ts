/**
 * The reference template's two Lambda functions (the AWS human-approval
 * tutorial, ../shared/reference/000_…txt), extracted so the benchmark can run
 * them as the Lambda runtime would. The stored copy has its YAML collapsed onto
 * one line, which breaks the few places where the code relied on line breaks
 * (automatic semicolon insertion); those are restored, and the result must parse.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { Script } from "node:vm";

/** Where the project's shared/ folder keeps it, beside this repository; REFERENCE_TEMPLATE overrides. */
export const REFERENCE_TEMPLATE = process.env.REFERENCE_TEMPLATE ?? path.resolve(__dirname, "../../shared/reference/000_ee509ebfa8b17239.txt");

/** The template's path, or undefined when this checkout has no shared/ folder beside it. */
export function findReferenceTemplate(file = REFERENCE_TEMPLATE): string | undefined {
  return existsSync(file) ? file : undefined;
}

export interface ReferenceFunctions {
  /** Sends the email (Handler: index.lambda_handler). */
  sendEmail: string;
  /** Takes the decision from the link (Handler: index.handler). */
  approval: string;
}

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`The reference template no longer holds "${start}" … "${end}".`);
  return text.slice(from, to);
}

/** Statement starts that followed a line break in the original, after a string or a call without a semicolon. */
function restoreLineBreaks(code: string): string {
  return code.replace(/(['")])\s+(?=(emailMessage \+=|const |var |console\.log\())/g, "$1;\n");
}

function checkedSource(name: string, code: string): string {
  try {
    new Script(code, { filename: name });
  } catch (error) {
    throw new Error(`The reference ${name} function does not parse after extraction: ${(error as Error).message}`);
  }
  return code;
}

export function extractReferenceFunctions(substitutions: { email: string; topicArn: string }, file = REFERENCE_TEMPLATE): ReferenceFunctions {
  const template = readFileSync(file, "utf8");
  // CloudFormation Fn::Sub values, as the stack would have filled them in.
  const approval = between(template, 'const { SFN: StepFunctions } = require("@aws-sdk/client-sfn");', "Description: Lambda function that callback").split("${Email}").join(substitutions.email);
  const sendEmail = between(template, "console.log('Loading function');", "LambdaStateMachineExecutionRole:").split("${SNSHumanApprovalEmailTopic}").join(substitutions.topicArn);
  return {
    approval: checkedSource("approval", restoreLineBreaks(approval)),
    sendEmail: checkedSource("sendEmail", restoreLineBreaks(sendEmail)),
  };
}
