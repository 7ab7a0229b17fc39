import { randomUUID } from 'node:crypto';
import test from 'ava';
import { FakeDriver, type FakeDriverOptions } from '../../../agent/hypervisor/fake/driver.js';
import type { StorageSpec, VolumeRef } from '../../../shared/model.js';
import { driverContract, type ContractHost, type DriverFixture, type SharedContractHost } from './driver-contract.js';
import { vmSpec } from './helpers.js';

function hostOf(driver: FakeDriver): ContractHost {
  return {
    driver,
    definition: async (uuid) => {
      const status = await driver.getDomain(uuid);
      if (!status) return undefined;
      const spec = driver.specOf(uuid);
      const deviceIds = [...(spec?.disks.map((disk) => disk.diskId) ?? []), ...(spec?.nics.map((nic) => nic.nicId) ?? [])].sort();
      return { name: spec?.name ?? '', description: spec?.description ?? '', deviceIds };
    },
    storage: async (): Promise<StorageSpec> => ({ id: randomUUID(), kind: 'localfs', address: '', path: `/srv/fake/${randomUUID()}` }),
    removeStorageDirectory: async (storage) => driver.removeStorageDirectory(storage.path),
    volumeExists: async (volume: VolumeRef) => driver.volumes.has(`${volume.storage.id}/${volume.volumeId}`),
    networkState: async (network) => (driver.networks.has(network.id) ? 'running' : undefined),
  };
}

function fakeFixture(title: string, options: Required<Pick<FakeDriverOptions, 'hotplug' | 'events'>>): DriverFixture {
  return {
    title,
    abilities: { ...options, pmWakeup: true },
    async host(_t, domains = []) {
      const driver = new FakeDriver(options);
      for (const { spec, state, managed } of domains) {
        driver.addDomain({ uuid: spec.id, name: managed ? `drover-${spec.id}` : `outsider-${spec.id}`, state, managed }, managed ? spec : undefined);
      }
      await driver.open();
      return hostOf(driver);
    },
    async sharedHost() {
      const driver = new FakeDriver(options);
      await driver.open();
      const shared: SharedContractHost = {
        ...hostOf(driver),
        outsider: {
          define: async (spec, managed) => driver.addDomain({ uuid: spec.id, name: managed ? `drover-${spec.id}` : `outsider-${spec.id}`, state: 'shutoff', managed }, managed ? spec : undefined),
          start: async (uuid) => driver.setState(uuid, 'running'),
          pause: async (uuid) => driver.setState(uuid, 'paused'),
        },
        vm: (overrides) => vmSpec(overrides),
        reopen: async () => {
          await driver.close();
          await driver.open();
          return driver;
        },
      };
      return shared;
    },
  };
}

driverContract(test, fakeFixture('with hot-plug and events', { hotplug: true, events: true }));
driverContract(test, fakeFixture('without hot-plug or events', { hotplug: false, events: false }));
