import { strict as assert } from "node:assert";
import { LOG_DELIVERY_ACTIONS, type PolicyDocument } from "../../components/policies";

/** The whole rule set for every document this project writes. */
export function assertLeastPrivilege(document: PolicyDocument): void {
  for (const statement of document.Statement) {
    for (const action of statement.Action) assert.ok(!action.includes("*"), `wildcard action ${action}`);
    const resources = ([] as string[]).concat(statement.Resource);
    if (resources.includes("*")) {
      const allowedWithStar = ["states:SendTaskSuccess", ...LOG_DELIVERY_ACTIONS];
      for (const action of statement.Action) assert.ok(allowedWithStar.includes(action), `${action} must name its resource`);
    }
  }
}
