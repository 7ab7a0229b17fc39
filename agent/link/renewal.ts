import type { Logger } from '../../shared/logger.js';
import { validityOf, type AgentIdentity } from '../identity.js';

const maxTimerMs = 2 ** 31 - 1;

export interface RenewalOptions {
  current: () => AgentIdentity;
  /** Obtains and keeps a renewed identity, and has the link use it. */
  renew: () => Promise<void>;
  logger: Logger;
}

/**
 * Renews the agent's certificate once a third of its validity is left, and
 * again a tenth of its validity later while renewing fails (the controller
 * may be away), so that an agent never holds an expired certificate while
 * the controller is reachable.
 */
export class CertificateRenewal {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Never renews again within a tenth of a validity of the last renewal, even when the CA cannot issue a longer one. */
  private lastRenewedAt = 0;

  constructor(private readonly options: RenewalOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(retryAfterMs?: number): void {
    if (this.stopped) return;
    const { notBefore, notAfter } = validityOf(this.options.current());
    const due = Math.max(notAfter - (notAfter - notBefore) / 3, this.lastRenewedAt + (notAfter - notBefore) / 10);
    const delay = retryAfterMs ?? Math.max(0, due - Date.now());
    this.timer = setTimeout(() => (Date.now() >= due ? void this.renew(notAfter - notBefore) : this.schedule()), Math.min(delay, maxTimerMs));
    this.timer.unref();
  }

  private async renew(lifetimeMs: number): Promise<void> {
    try {
      await this.options.renew();
      this.lastRenewedAt = Date.now();
      this.options.logger.info({ notAfter: new Date(validityOf(this.options.current()).notAfter).toISOString() }, 'host certificate renewed');
      this.schedule();
    } catch (error) {
      const retryAfterMs = Math.max(1000, Math.round(lifetimeMs / 10));
      this.options.logger.warn({ err: error, retryInMs: retryAfterMs }, 'could not renew the host certificate');
      this.schedule(retryAfterMs);
    }
  }
}
