/**
 * The words of the sign-in answers, and the bits of page they add. pages.ts renders them like every
 * other answer (same layout, headers and escaping); only the texts live here.
 */
import type { Outcome } from "../outcome";
import type { SignInFailure } from "./signIn";

type SignInOutcome = Extract<Outcome, { kind: "redirect" | "signInRequired" | "signInFailed" | "wrongApprover" | "signInUnavailable" }>;

const NOTHING_DECIDED = "Nothing was decided.";
const OPEN_AGAIN = "Open the link from your approval email again to sign in.";

const FAILURES: Record<SignInFailure, { heading: string; lead: string }> = {
  cancelled: { heading: "Sign-in cancelled", lead: `You cancelled the sign-in, so this request cannot be shown. ${NOTHING_DECIDED} ${OPEN_AGAIN}` },
  providerError: { heading: "Sign-in did not complete", lead: `The sign-in service ended the sign-in with an error. ${NOTHING_DECIDED} ${OPEN_AGAIN}` },
  noLoginInProgress: {
    heading: "This sign-in is not valid here",
    lead: `This sign-in was not started in this browser, was already used, or took longer than 10 minutes. ${NOTHING_DECIDED} ${OPEN_AGAIN}`,
  },
  responseRejected: { heading: "Sign-in could not be verified", lead: `The answer from the sign-in service could not be verified. ${NOTHING_DECIDED} ${OPEN_AGAIN}` },
  codeRejected: { heading: "Sign-in could not be verified", lead: `The sign-in service did not confirm this sign-in (it may have been used already). ${NOTHING_DECIDED} ${OPEN_AGAIN}` },
  tokenRejected: { heading: "Sign-in could not be verified", lead: `The identity the sign-in service returned failed its checks. ${NOTHING_DECIDED} ${OPEN_AGAIN}` },
  emailMissing: { heading: "No email address from the sign-in service", lead: `Your account gave no email address, so it cannot be matched to an approver. ${NOTHING_DECIDED} Ask the owner of this workflow to release the email claim.` },
  emailNotVerified: { heading: "Email address not verified", lead: `The sign-in service does not vouch for your email address, so it cannot be matched to an approver. ${NOTHING_DECIDED}` },
  emailNotPlain: { heading: "Email address not accepted", lead: `Your account's email address has characters other than plain letters, digits and punctuation (an invisible or look-alike character), so it cannot be matched to an approver. ${NOTHING_DECIDED}` },
};

export function describeSignIn(outcome: SignInOutcome): { heading: string; lead: string } {
  switch (outcome.kind) {
    case "redirect":
      return { heading: "Sign in to continue", lead: `This approval needs you to sign in first. ${NOTHING_DECIDED}` };
    case "signInRequired":
      return { heading: "Sign-in required", lead: `This workflow asks approvers to sign in with their organisation's account: open the link in a browser. ${NOTHING_DECIDED}` };
    case "signInFailed": {
      const text = FAILURES[outcome.reason];
      return outcome.reason === "emailNotVerified" && outcome.signedInAs ? { ...text, lead: `You signed in as ${outcome.signedInAs}, but ${text.lead.charAt(0).toLowerCase()}${text.lead.slice(1)}` } : text;
    }
    case "wrongApprover":
      return {
        heading: "This link is for someone else",
        lead: `You are signed in as ${outcome.signedInAs}, but this link is ${outcome.approver}'s. Only ${outcome.approver} can open it after signing in. Nothing was shown or recorded.`,
      };
    case "signInUnavailable":
      return { heading: "Sign-in is unavailable right now", lead: `The sign-in service could not be reached. ${NOTHING_DECIDED} Try again in a minute.` };
  }
}

export function isSignInOutcome(outcome: Outcome): outcome is SignInOutcome {
  return outcome.kind === "redirect" || outcome.kind === "signInRequired" || outcome.kind === "signInFailed" || outcome.kind === "wrongApprover" || outcome.kind === "signInUnavailable";
}

/** A way on from a sign-in answer: back to the provider for another account, or to the login page. `escape` is the page's own. */
export function signInActions(outcome: Outcome, escape: (value: string) => string): string {
  if (outcome.kind === "wrongApprover") {
    return `<p><a href="${escape(outcome.retryUrl)}">Sign in as ${escape(outcome.approver)}</a> <span class="muted">(you will be asked to sign in again)</span></p>`;
  }
  // "Signed in as …, verified by …" is part of the request's page, beside the buttons (pages.ts).
  if (outcome.kind === "redirect") return `<p><a href="${escape(outcome.location)}">Continue to sign-in</a></p>`;
  return "";
}
