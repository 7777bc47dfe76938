/** Headless Chromium for the browser tests: Debian's package (browsers cannot be downloaded here). */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const installHint = (path: string) => `Headless Chromium not found at ${path}: install it with "apt-get update && apt-get install -y chromium" (Debian), or set CHROMIUM_PATH.`;
/** Without the background-networking flags Chromium keeps trying hosts this machine cannot reach. */
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"];

/**
 * Launches Chromium from a mocha `before` hook, or skips the suite with the install hint. Under CI,
 * which installs Chromium (.ci/run), a missing browser is a failure, never a silent skip.
 */
export async function launchChromiumOrSkip(context: Mocha.Context, executablePath = CHROMIUM, underCi = Boolean(process.env.CI)): Promise<Browser> {
  if (!existsSync(executablePath)) {
    if (underCi) throw new Error(installHint(executablePath));
    console.log(`      (skipped) ${installHint(executablePath)}`);
    context.skip();
  }
  return chromium.launch({ executablePath, headless: true, args: ARGS });
}
