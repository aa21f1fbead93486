/** Wraps fake answers of a mocked SDK client so a test can see how many requests were in flight at once. */
export interface InFlightStats {
  inFlight: number;
  maxInFlight: number;
}

/** `answer(fn)` turns a plain fake into a mock implementation that takes `delayMs` and counts requests in flight. */
export function inFlightCounter(delayMs = 0) {
  const stats: InFlightStats = { inFlight: 0, maxInFlight: 0 };
  const answer =
    <I, O>(fn: (input: I) => O) =>
    async (input: I): Promise<O> => {
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return fn(input);
      } finally {
        stats.inFlight--;
      }
    };
  return { stats, answer };
}
