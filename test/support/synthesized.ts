/**
 * The two Lambda functions exactly as the component declares them under Pulumi mocks: their configured
 * `timeout`, their environment variables (outputs resolved to the mocks' values) and their code archive.
 * Tests that must hold against what is deployed (the hang bounds, what a read-only insider can read in the
 * functions' configuration) take these values from here, never from the constants the code under test uses.
 */
import type { Transport } from "../../functions/decision/httpEvent";
import { HumanApprovalWorkflow, type HumanApprovalWorkflowArgs } from "../../components/humanApprovalWorkflow";
import { archiveText, declaredUnder, settled, useMocks, valueOf } from "./pulumiMocks";

export interface SynthesizedFunction {
  /** The function's `timeout`, in seconds, as declared on aws.lambda.Function. */
  timeoutSeconds: number;
  /** `environment.variables` as declared: what `lambda:GetFunctionConfiguration` shows. */
  environment: Record<string, string>;
  /** The bundled handler (`index.js` of the code archive). */
  code(): Promise<string>;
}

export interface SynthesizedProgram {
  decision: SynthesizedFunction;
  requestApproval: SynthesizedFunction;
  callbackUrl: string;
}

let programs = 0;

/** Declares one HumanApprovalWorkflow under the shared mocks (stack `test`) and reads its two functions back. */
export async function synthesizeFunctions(args: Partial<HumanApprovalWorkflowArgs> & { transport: Transport; approverEmails: string[] }): Promise<SynthesizedProgram> {
  useMocks("test");
  const name = `synthesized${++programs}`;
  const workflow = new HumanApprovalWorkflow(name, { approvalTimeoutMinutes: 60, logRetentionDays: 14, auditRetentionDays: 90, ...args });
  const callbackUrl = await valueOf(workflow.callbackUrl);
  await settled();
  const resources = declaredUnder(`${name}-`);
  const fn = (role: string): SynthesizedFunction => {
    const declared = resources.one("aws:lambda/function:Function", `${name}-${role}`);
    const timeoutSeconds = declared.inputs.timeout;
    if (typeof timeoutSeconds !== "number" || !(timeoutSeconds > 0)) throw new Error(`${name}-${role} declares no timeout (got ${JSON.stringify(timeoutSeconds)})`);
    return { timeoutSeconds, environment: { ...(declared.inputs.environment?.variables ?? {}) }, code: () => archiveText(declared.inputs.code, "index.js") };
  };
  return { decision: fn("decision"), requestApproval: fn("request-approval"), callbackUrl };
}
