/** Small statistics helpers for the benchmarks. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  p90: number;
  runs: number;
}

export function spread(samples: number[]): Spread {
  return { median: percentile(samples, 50), min: Math.min(...samples), max: Math.max(...samples), p90: percentile(samples, 90), runs: samples.length };
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));
