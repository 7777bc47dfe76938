/**
 * The sweeper: no settled vote waits for a person. An EventBridge schedule (stack config
 * `sweepIntervalMinutes`, every minute by default) invokes the request-approval function with
 * `{"kind":"sweep"}`. It lists the requests whose delivery is unfinished (SETTLING: the votes decided, the
 * workflow's receipt not confirmed) from the status index (a query, never a scan), and for each whose lease
 * ran out (its deliverer died, hung, was throttled, or its reply was lost) it does what a visit of a link
 * would: takes the lease, sends the recorded output, reads the execution's history when the answer is not a
 * plain success, records what the workflow received (or that its execution ended: withdrawn, failed,
 * timed out) and sends the outcome notice. Step Functions takes a task token's answer once, and the record
 * is a version-conditioned write, so a sweep that overlaps a visit or another sweep delivers nothing twice.
 */
import { STATUS_INDEX } from "../shared/approvalRequest";
import { describeError } from "../shared/logger";
import type { DynamoDbRequestStore } from "../shared/requestStore";
import { applyEvent, performEffects, type SettleDependencies } from "../shared/settle";

/** What the status index gives for an unfinished delivery: enough to tell whether its lease ran out. */
export interface UnfinishedDelivery {
  id: string;
  settlement?: { leaseUntil?: string };
}

export interface SweepDependencies extends SettleDependencies {
  /** SETTLING requests, from the status index. */
  unfinishedDeliveries(): Promise<UnfinishedDelivery[]>;
}

/** At most this many deliveries per run (each a few calls of at most a few seconds): the rest wait for the next run. */
export const SWEEP_BATCH = 25;
/** No delivery starts after this long into a run, well inside the request function's 60 s timeout. */
export const SWEEP_TIME_BUDGET_MS = 30_000;

export interface SweepResult {
  /** SETTLING requests found. */
  found: number;
  /** Whose lease had run out, and which this run tried to complete. */
  resumed: number;
  /** What each resumed request is now (APPROVED, REJECTED, EXPIRED, WITHDRAWN, CLOSED, or SETTLING when not yet). */
  statuses: Record<string, number>;
}

export async function sweepDeliveries(deps: SweepDependencies): Promise<SweepResult> {
  const now = deps.now();
  const found = await deps.unfinishedDeliveries();
  const due = found.filter((request) => !(Date.parse(request.settlement?.leaseUntil ?? "") > now.getTime())).slice(0, SWEEP_BATCH);
  const statuses: Record<string, number> = {};
  let failed = 0;
  const started = Date.now();
  for (const { id } of due) {
    if (Date.now() - started > SWEEP_TIME_BUDGET_MS) break; // the next run goes on
    try {
      const applied = await applyEvent(deps, id, { type: "sweep" });
      if (!applied) continue;
      const performed = await performEffects(deps, applied.request, applied.step);
      statuses[performed.request.status] = (statuses[performed.request.status] ?? 0) + 1;
      if (applied.step.effects.length) deps.logger.info("Unfinished delivery swept", { requestRef: id, outcome: "swept", status: performed.request.status });
    } catch (error) {
      failed++;
      deps.logger.warn("Unfinished delivery not swept; the next run tries again", { requestRef: id, ...describeError(error) });
    }
  }
  deps.logger.info("Sweep done", { outcome: "swept", found: found.length, resumed: due.length, failed, ...statuses });
  // Failing the invocation makes a stuck delivery show in the Errors alarm; the next run tries again anyway.
  if (failed > 0) throw new Error(`${failed} unfinished deliver${failed === 1 ? "y" : "ies"} could not be completed; see the warnings above.`);
  return { found: found.length, resumed: due.length, statuses };
}

/** SETTLING requests from the status index, every page (only their id and lease are read). */
export function unfinishedDeliveriesFromIndex(store: Pick<DynamoDbRequestStore, "query">): SweepDependencies["unfinishedDeliveries"] {
  return async () => {
    const found: UnfinishedDelivery[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await store.query({
        IndexName: STATUS_INDEX.name,
        KeyConditionExpression: "#status = :settling",
        ProjectionExpression: "#id, #settlement.#leaseUntil",
        ExpressionAttributeNames: { "#status": "status", "#id": "id", "#settlement": "settlement", "#leaseUntil": "leaseUntil" },
        ExpressionAttributeValues: { ":settling": "SETTLING" },
        ExclusiveStartKey: start,
      });
      found.push(...(page.items as UnfinishedDelivery[]));
      start = page.lastEvaluatedKey;
    } while (start);
    return found;
  };
}
