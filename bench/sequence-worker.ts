import { performance } from 'node:perf_hooks';
import { KeepAliveClient } from '../test/support/keep-alive-client.js';

/**
 * Sends a list of requests one after another over one keep-alive connection
 * and reports each round trip, from a child process, so that the client's own
 * work does not run on the server's thread. Used by the start-latency
 * benchmark.
 */
export interface SequenceJob {
  origin: string;
  authorization: string;
  /** The CA certificate (PEM) the client trusts over HTTPS. */
  ca?: string;
  method: string;
  paths: string[];
  body?: string;
  budgetMs: number;
}

export interface SequenceSample {
  status: number;
  ms: number;
  /** Wall-clock time (ms since the epoch, fractional) the request was sent at. */
  sentAt: number;
  /** The first 400 characters of the response body. */
  body: string;
}

export interface SequenceResult {
  samples: SequenceSample[];
  /** Connections the client opened: 1 when keep-alive held throughout. */
  connectionsOpened: number;
}

async function run(job: SequenceJob): Promise<SequenceResult> {
  const client = new KeepAliveClient(job.origin, job.authorization, job.ca);
  const deadline = performance.now() + job.budgetMs;
  const samples: SequenceSample[] = [];
  try {
    for (const path of job.paths) {
      if (performance.now() >= deadline) break;
      const sentAt = performance.timeOrigin + performance.now();
      const response = await client.request(job.method, path, { body: job.body });
      samples.push({ status: response.status, ms: response.ms, sentAt, body: response.body.slice(0, 400) });
    }
  } finally {
    client.close();
  }
  return { samples, connectionsOpened: client.connectionsOpened };
}

process.once('message', (job: SequenceJob) => {
  run(job)
    .then((result) => process.send?.({ type: 'result', ...result }, () => process.exit(0)))
    .catch((error: unknown) => process.send?.({ type: 'error', message: String(error) }, () => process.exit(1)));
});
