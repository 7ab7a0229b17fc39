/**
 * Whether the hypervisor restarts a domain within the reboot call itself, so
 * that the guest has rebooted once the call returns: libvirt's test driver
 * does, and reports no reboot event.
 */
export function rebootCompletesInCall(hypervisorType: string): boolean {
  return hypervisorType === 'TEST';
}

/** A wait for the next reboot of one domain. */
export interface PendingReboot {
  /** Resolves true once the domain rebooted, or false when it has not within timeoutMs. */
  within(timeoutMs: number): Promise<boolean>;
  /** Stops waiting; within then resolves false if it has not resolved. */
  cancel(): void;
}

/** Hands libvirt's reboot events to those waiting for a domain's next reboot. */
export class RebootWatch {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Takes in a reboot event. */
  rebooted(uuid: string): void {
    const waiting = this.waiters.get(uuid.toLowerCase());
    if (!waiting) return;
    this.waiters.delete(uuid.toLowerCase());
    for (const wake of waiting) wake();
  }

  /** Starts waiting for the domain's next reboot; events before this call do not count. */
  next(uuid: string): PendingReboot {
    const key = uuid.toLowerCase();
    let happened = false;
    let settle: (rebooted: boolean) => void = () => undefined;
    const wake = () => {
      happened = true;
      settle(true);
    };
    const waiting = this.waiters.get(key) ?? new Set();
    waiting.add(wake);
    this.waiters.set(key, waiting);
    const cancel = () => {
      const current = this.waiters.get(key);
      current?.delete(wake);
      if (current?.size === 0) this.waiters.delete(key);
      settle(happened);
    };
    return {
      within: (timeoutMs) =>
        new Promise<boolean>((resolve) => {
          if (happened) return resolve(true);
          const timer = setTimeout(() => settle(false), Math.max(timeoutMs, 0));
          settle = (rebooted) => {
            clearTimeout(timer);
            resolve(rebooted);
          };
        }),
      cancel,
    };
  }
}
