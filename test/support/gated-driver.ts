import type { HypervisorDriver } from '../../agent/hypervisor/driver.js';

/** The methods of a HypervisorDriver that a gate can hold: every asynchronous one. */
export type GatedOperation = {
  [Name in keyof HypervisorDriver]-?: NonNullable<HypervisorDriver[Name]> extends (...args: never[]) => Promise<unknown> ? Name : never;
}[keyof HypervisorDriver];

/**
 * A closed gate on one driver operation. Calls of the operation that reach it
 * wait there, without reaching the real driver, until the test releases or
 * fails them; from then on the operation passes freely again.
 */
export interface Gate {
  /** Resolves with the arguments of the first call the gate holds, once that call waits at the gate. */
  readonly reached: Promise<unknown[]>;
  /** How many calls wait at the gate now. */
  readonly waiting: number;
  /** Opens the gate: the held calls go on to the real driver, and so do later ones. */
  release(): void;
  /** Opens the gate by rejecting every held call with `error` (a DriverError, say); later calls pass. */
  fail(error: Error): void;
}

interface ClosedGate {
  matches: (args: unknown[]) => boolean;
  held: Array<{ pass: () => void; reject: (error: Error) => void }>;
  reach: (args: unknown[]) => void;
}

/**
 * Wraps a driver (a real LibvirtDriver, usually) so that a test can hold a
 * chosen operation in progress, e.g. a template's volume copy
 * (`createVolume`), look at the system meanwhile, and then let it finish or
 * fail. Give `driver` to the agent; every call goes to the wrapped driver
 * unchanged unless a gate holds it.
 */
export class GatedDriver<Driver extends HypervisorDriver = HypervisorDriver> {
  readonly driver: Driver;
  private readonly gates = new Map<GatedOperation, ClosedGate>();

  constructor(readonly inner: Driver) {
    this.driver = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const gate = this.gates.get(property as GatedOperation);
          if (!gate || !gate.matches(args)) return value.apply(target, args);
          return new Promise<void>((pass, reject) => {
            gate.held.push({ pass, reject });
            gate.reach(args);
          }).then(() => value.apply(target, args));
        };
      },
    });
  }

  /** Closes a gate on `operation` for the calls whose arguments `when` accepts (all of them unless given). One gate per operation at a time. */
  hold(operation: GatedOperation, when: (args: unknown[]) => boolean = () => true): Gate {
    if (this.gates.has(operation)) throw new Error(`${operation} is held already`);
    let reach!: (args: unknown[]) => void;
    const reached = new Promise<unknown[]>((resolve) => (reach = resolve));
    const gate: ClosedGate = { matches: when, held: [], reach };
    this.gates.set(operation, gate);
    const open = () => {
      if (this.gates.get(operation) === gate) this.gates.delete(operation);
      return gate.held.splice(0);
    };
    return {
      reached,
      get waiting() {
        return gate.held.length;
      },
      release: () => {
        for (const call of open()) call.pass();
      },
      fail: (error) => {
        for (const call of open()) call.reject(error);
      },
    };
  }
}
