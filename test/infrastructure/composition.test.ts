/**
 * Composition: the approval step inside a state machine of the user's own (docs/component.md). The states come
 * from the component's own definition; the user's machine that embeds them is valid ASL and every path out of
 * the step reaches the state the user defines; the component's `approvalStates` output is exactly those states
 * with its request function; and `callerStateMachineNames` extends what the functions may read (and the
 * withdrawal rule) to the user's executions, leaving the stand-alone documents as they were without it.
 */
import { strict as assert } from "node:assert";
import { APPROVAL_DECIDED, APPROVAL_ENTRY, buildApprovalStates } from "../../components/approvalStates";
import { HumanApprovalWorkflow } from "../../components/humanApprovalWorkflow";
import { buildStateMachineDefinition, STATE_NAMES } from "../../components/stateMachineDefinition";
import { ACCOUNT, REGION, declaredUnder, settled, useMocks, valueOf } from "../support/pulumiMocks";
const validateAsl: (definition: unknown) => { isValid: boolean; errors: unknown[] } = require("asl-validator");

const REQUEST_FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:request-approval`;
type State = Record<string, any>;

/** The docs/component.md example: build, ask, then deploy or stop. */
function usersStateMachine(approvalStates: Record<string, State>) {
  return {
    StartAt: "Build release",
    States: {
      "Build release": { Type: "Pass", Result: { artifact: "app-2026.11.zip" }, ResultPath: "$.build", Next: APPROVAL_ENTRY },
      ...approvalStates,
      [APPROVAL_DECIDED]: { Type: "Choice", Choices: [{ Variable: "$.approval.decision", StringEquals: "approved", Next: "Deploy" }], Default: "Not deployed" },
      Deploy: { Type: "Pass", End: true },
      "Not deployed": { Type: "Succeed" },
    },
  };
}

/** Every state a state can go on to: Next, Default, the Choices' and the Catchers' Next. */
const targetsOf = (state: State): string[] =>
  [state.Next, state.Default, ...(state.Choices ?? []).map((choice: State) => choice.Next), ...(state.Catch ?? []).map((catcher: State) => catcher.Next)].filter(Boolean);

describe("composition: the approval step in a state machine of your own", () => {
  const states: Record<string, State> = buildApprovalStates({ requestFunctionArn: REQUEST_FUNCTION, approvalTimeoutSeconds: 3600, partition: "aws" });

  it("embeds into a valid state machine in which every transition reaches a defined state", () => {
    const machine = usersStateMachine(states);
    // A copy: asl-validator writes defaults (QueryLanguage) into what it is given.
    const { isValid, errors } = validateAsl(structuredClone(machine));
    assert.ok(isValid, JSON.stringify(errors));
    for (const [name, state] of Object.entries(machine.States)) {
      for (const target of targetsOf(state)) assert.ok(target in machine.States, `${name} goes on to ${target}, which is not defined`);
    }
  });

  it("enters at a waitForTaskToken task about the execution's own input, and leaves only to the state you define", () => {
    const entry = states[APPROVAL_ENTRY];
    assert.equal(entry.Resource, "arn:aws:states:::lambda:invoke.waitForTaskToken");
    assert.equal(entry.TimeoutSeconds, 3600);
    assert.equal(entry.Parameters.FunctionName, REQUEST_FUNCTION);
    assert.equal(entry.Parameters.Payload["taskToken.$"], "$$.Task.Token");
    // What the verify step checks the decision against: the approvers were shown exactly this.
    assert.equal(entry.Parameters.Payload["input.$"], "$$.Execution.Input");
    const outside = new Set(Object.values(states).flatMap(targetsOf).filter((target) => !(target in states)));
    assert.deepEqual([...outside], [APPROVAL_DECIDED]);
  });

  it("is the component's own workflow: the same retries, catches, verification and failures", () => {
    const own = buildStateMachineDefinition({ requestFunctionArn: REQUEST_FUNCTION, approvalTimeoutSeconds: 3600, partition: "aws" }).States;
    for (const name of [STATE_NAMES.requestApproval, STATE_NAMES.verifyDecision, STATE_NAMES.notifyExpiry]) {
      assert.deepEqual(states[name].Retry, own[name].Retry, name);
    }
    assert.deepEqual(states[STATE_NAMES.requestApproval].Catch, own[STATE_NAMES.requestApproval].Catch);
    assert.deepEqual(states[STATE_NAMES.verifyDecision].Catch, own[STATE_NAMES.verifyDecision].Catch);
    assert.deepEqual(states[STATE_NAMES.verifyDecision].Parameters, own[STATE_NAMES.verifyDecision].Parameters);
    for (const name of [STATE_NAMES.notVerified, STATE_NAMES.refused, STATE_NAMES.failed]) assert.deepEqual(states[name], own[name], name);
  });

  describe("the component's outputs and callerStateMachineNames (under mocks)", () => {
    before(() => useMocks("dev"));

    async function deploy(name: string, callerStateMachineNames?: string[]) {
      const workflow = new HumanApprovalWorkflow(name, { approverEmails: ["ops@example.com"], approvalTimeoutMinutes: 60, callerStateMachineNames });
      const [requestFunctionArn, approvalStates, stateMachineArn] = await Promise.all([valueOf(workflow.requestFunctionArn), valueOf(workflow.approvalStates), valueOf(workflow.stateMachineArn)]);
      await settled();
      const resources = declaredUnder(`${name}-`);
      const policy = (logicalName: string) => JSON.parse(resources.one("aws:iam/rolePolicy:RolePolicy", `${name}-${logicalName}`).inputs.policy);
      return {
        requestFunctionArn, approvalStates, stateMachineArn,
        verifyResources: policy("decision-verify-policy").Statement[0].Resource,
        eventsResources: policy("request-approval-events-policy").Statement.find((statement: State) => statement.Sid === "ConfirmHowExecutionsEnded").Resource,
        endedMachines: JSON.parse(resources.one("aws:cloudwatch/eventRule:EventRule", `${name}-execution-ended`).inputs.eventPattern).detail.stateMachineArn,
      };
    }

    it("gives the request function's ARN and the approval states built with it", async () => {
      const deployed = await deploy("composed");
      assert.equal(deployed.approvalStates[APPROVAL_ENTRY].Parameters.FunctionName, deployed.requestFunctionArn);
      assert.deepEqual(deployed.approvalStates, buildApprovalStates({ requestFunctionArn: deployed.requestFunctionArn, approvalTimeoutSeconds: 3600, partition: "aws" }));
    });

    it("lets the functions read, and the withdrawal rule hear of, the named state machines' executions too", async () => {
      const alone = await deploy("alone");
      const machineName = alone.stateMachineArn.split(":").pop();
      // Without callers: one string, the documents stand-alone stacks have always had.
      assert.equal(alone.verifyResources, `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName}:*`);
      assert.equal(alone.eventsResources, alone.verifyResources);
      assert.deepEqual(alone.endedMachines, [alone.stateMachineArn]);

      const shared = await deploy("shared", ["release-pipeline"]);
      const ownMachine = shared.stateMachineArn.split(":").pop();
      const executions = [`arn:aws:states:${REGION}:${ACCOUNT}:execution:${ownMachine}:*`, `arn:aws:states:${REGION}:${ACCOUNT}:execution:release-pipeline:*`];
      assert.deepEqual(shared.verifyResources, executions);
      assert.deepEqual(shared.eventsResources, executions);
      assert.deepEqual(shared.endedMachines, [`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${ownMachine}`, `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:release-pipeline`]);
    });
  });
});
