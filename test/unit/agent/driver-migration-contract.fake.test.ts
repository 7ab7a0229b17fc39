import { randomUUID } from 'node:crypto';
import test from 'ava';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import { driverMigrationContract, type MigrationHosts } from './driver-migration-contract.js';
import { vmSpec } from './helpers.js';

driverMigrationContract(test, {
  title: 'fake driver',
  serial: false,
  async hosts(t): Promise<MigrationHosts> {
    const destinationUri = `qemu+fake://${randomUUID()}/system`;
    const source = new FakeDriver({ migrationUri: `qemu+fake://${randomUUID()}/system`, migration: { steps: 20, stepMs: 10 } });
    const destination = new FakeDriver({ migrationUri: destinationUri });
    await source.open();
    await destination.open();
    t.teardown(() => {
      source.withdrawFromMigrations();
      destination.withdrawFromMigrations();
    });
    return {
      source,
      destination,
      unreachableUri: `qemu+fake://${randomUUID()}/system`,
      async migration(options = {}) {
        const spec = vmSpec();
        await source.start(spec.id, spec);
        source.migrationTiming = { ...source.migrationTiming, steps: options.slow ? 10_000 : 20 };
        return {
          spec,
          target: { migrationId: randomUUID(), destinationUri, destinationAddress: '192.0.2.2', stallTimeoutMs: 60_000, deadlineMs: 600_000, sharedStorage: false, bandwidthMiBPerSecond: 0 },
        };
      },
      async defined() {
        const spec = vmSpec();
        await source.define(spec);
        return spec;
      },
      destinationStorage: async () => ({ id: randomUUID(), kind: 'localfs', address: '', path: `/srv/fake/${randomUUID()}` }),
    };
  },
});
