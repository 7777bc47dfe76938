/** Captures everything written to stdout and stderr (and so every log line) while a test runs. */
export interface OutputCapture {
  lines(): string[];
  text(): string;
  restore(): void;
}

export function captureOutput(options: { echo?: boolean } = {}): OutputCapture {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const intercept = (original: typeof originals.out) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return options.echo ? original(chunk, ...(rest as [])) : true;
    }) as typeof process.stdout.write;
  process.stdout.write = intercept(originals.out);
  process.stderr.write = intercept(originals.err);
  return {
    text: () => chunks.join(""),
    lines: () => chunks.join("").split("\n").filter(Boolean),
    restore() {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}
