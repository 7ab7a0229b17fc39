import { setTimeout as sleep } from 'node:timers/promises';

const probeIntervalMs = 10;

/**
 * Waits for a positive signal: calls `probe` every 10 ms until it returns
 * something other than undefined or false, and returns that. A probe that
 * throws is called again. After `timeoutMs` it rejects with an error that
 * names `what` was awaited, and the probe's last error if it threw.
 */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await sleep(probeIntervalMs);
  }
}
