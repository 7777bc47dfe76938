/**
 * The human-approval policy pack: `pulumi preview --policy-pack policy`.
 * Constructing a PolicyPack starts the policy server, so the rules live in rules.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { HUMAN_APPROVAL_POLICIES } from "./rules";

new PolicyPack("human-approval-guarantees", { policies: HUMAN_APPROVAL_POLICIES });
