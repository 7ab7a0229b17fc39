import { randomUUID } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DriverError } from '../../../agent/hypervisor/driver.js';
import { LibvirtDriver } from '../../../agent/hypervisor/libvirt/driver.js';
import { cdromAlias, designDomain, storagePoolName, volumePath } from '../../../agent/hypervisor/libvirt/designer.js';
import { readDroverMetadata, serializeDomainXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { DomainState, LibvirtConnection } from '../../../agent/hypervisor/libvirt/native/index.js';
import type { StorageSpec, VmSpec } from '../../../shared/model.js';
import { driverContract, type ContractHost, type SeedState, type SeededDomain, type SharedContractHost } from './driver-contract.js';
import { vmSpec } from './helpers.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const runstateOf: Record<SeedState, number> = {
  running: DomainState.RUNNING,
  paused: DomainState.PAUSED,
  shutting_down: DomainState.SHUTDOWN,
  shutoff: DomainState.SHUTOFF,
  crashed: DomainState.CRASHED,
  pm_suspended: DomainState.PMSUSPENDED,
};

function domainXml(spec: VmSpec, managed: boolean, mountRoot: string): string {
  if (managed) return serializeDomainXml(designDomain(spec, 'test', mountRoot));
  return `<domain type="test"><name>outsider-${spec.id}</name><uuid>${spec.id}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;
}

/** A host file of libvirt's test driver, whose domains start in the given states (the test driver reads a domain's state only from its host file). */
function hostXml(domains: readonly SeededDomain[], mountRoot: string): string {
  const seeded = domains.map(({ spec, managed, state }) =>
    domainXml(spec, managed, mountRoot)
      .replace('<domain type="test">', '<domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">')
      .replace(/<\/domain>$/, `<test:runstate>${runstateOf[state]}</test:runstate></domain>`),
  );
  const cpu = '<cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads><active>8</active><mhz>2000</mhz><model>x86_64</model></cpu>';
  return `<node>${cpu}<memory>16777216</memory>${seeded.join('')}</node>`;
}

function hostOf(driver: () => LibvirtDriver, directory: string, mountRoot: string, storages: StorageSpec[] = []): ContractHost {
  return {
    get driver() {
      return driver();
    },
    definition: async (uuid) => {
      const xml = await driver()
        .domainXml(uuid, true)
        .catch((error: unknown) => {
          if (error instanceof DriverError && error.kind === 'domain_not_found') return undefined;
          throw error;
        });
      if (xml === undefined) return undefined;
      const metadata = readDroverMetadata(xml);
      const deviceIds = [...xml.matchAll(/<alias name='(ua-[^']+)'\/>/g)].filter((match) => match[1] !== cdromAlias).map((match) => match[1]!.slice('ua-'.length)).sort();
      return { name: metadata?.name ?? '', description: metadata?.description ?? '', deviceIds };
    },
    storage: async () => {
      const storage: StorageSpec = { id: randomUUID(), kind: 'localfs', address: '', path: path.join(directory, `storage-${randomUUID()}`) };
      await mkdir(storage.path);
      storages.push(storage);
      return storage;
    },
    removeStorageDirectory: (storage) => rm(storage.path, { recursive: true, force: true }),
    volumeExists: (volume) => stat(volumePath(volume, mountRoot)).then(
      () => true,
      () => false,
    ),
    networkState: async (network) => {
      const found = await driver().networkSummary(network);
      return found && (found.active ? 'running' : 'stopped');
    },
  };
}

async function privateHost(t: ExecutionContext, domains: readonly SeededDomain[] = []): Promise<ContractHost> {
  const directory = await temporaryDirectory('contract');
  const mountRoot = path.join(directory.path, 'mnt');
  const hostFile = path.join(directory.path, 'host.xml');
  await writeFile(hostFile, hostXml(domains, mountRoot));
  const driver = new LibvirtDriver({ uri: `test://${hostFile}`, dataDir: path.join(directory.path, 'agent'), mountRoot });
  await driver.open();
  t.teardown(async () => {
    await driver.close();
    await directory.remove();
  });
  return hostOf(() => driver, directory.path, mountRoot);
}

/** test:///default, which every connection of the process shares and which lives while one is open: the outsider's keeps it. */
async function sharedHost(t: ExecutionContext): Promise<SharedContractHost> {
  const directory = await temporaryDirectory('contract-shared');
  const mountRoot = path.join(directory.path, 'mnt');
  const options = { uri: 'test:///default', dataDir: path.join(directory.path, 'agent'), mountRoot };
  const outsider = new LibvirtConnection(options.uri);
  await outsider.open();
  let driver = new LibvirtDriver(options);
  await driver.open();
  const vms: string[] = [];
  const storages: StorageSpec[] = [];
  t.teardown(async () => {
    for (const uuid of vms) {
      await outsider.domainOperation(uuid, 'destroy').catch(() => undefined);
      await outsider.domainOperation(uuid, 'undefine').catch(() => undefined);
    }
    for (const storage of storages) {
      await outsider.stopStoragePool(storagePoolName(storage.id)).catch(() => undefined);
      await outsider.undefineStoragePool(storagePoolName(storage.id)).catch(() => undefined);
    }
    await driver.close();
    await outsider.close();
    await directory.remove();
  });
  return Object.assign(hostOf(() => driver, directory.path, mountRoot, storages), {
    outsider: {
      define: async (spec: VmSpec, managed: boolean) => void (await outsider.defineDomain(domainXml(spec, managed, mountRoot))),
      start: async (uuid: string) => void (await outsider.domainOperation(uuid, 'create')),
      pause: async (uuid: string) => void (await outsider.domainOperation(uuid, 'suspend')),
    },
    vm: (overrides?: Partial<VmSpec>) => {
      const spec = vmSpec(overrides);
      vms.push(spec.id);
      return spec;
    },
    reopen: async () => {
      await driver.close();
      driver = new LibvirtDriver(options);
      await driver.open();
      return driver;
    },
  });
}

driverContract(test, { abilities: { hotplug: false, pmWakeup: false, events: true }, host: privateHost, sharedHost });
