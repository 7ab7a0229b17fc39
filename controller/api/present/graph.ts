import type { Cluster, DataCenter, DiskAttachment, Host, MacPool, Network, Nic, Task, Template, VmPool, VnicProfile } from '../../db/entities.js';
import type { ResourceName } from '../../query/catalog.js';
import { resources } from '../../query/catalog.js';
import type { Loaded, View } from '../../query/queries.js';
import type { DiskView } from '../../services/disks.js';
import type { StorageDomainView } from '../../services/storage-domains.js';
import type { VmView } from '../../services/vms.js';
import type { Presenter } from './entities.js';
import type { Rep } from './representation.js';

/** Options of a representation: `allContent` adds the fields that cost extra work to produce. */
export interface PresentOptions {
  allContent: boolean;
}

type StorageDomainWithStatus = StorageDomainView & { status: string };

const presenters: Record<ResourceName, (present: Presenter, view: View, options: PresentOptions) => Rep> = {
  vm: (present, view) => present.vm(view as VmView),
  host: (present, view, options) => present.host(view as Host, options.allContent),
  cluster: (present, view) => present.cluster(view as Cluster),
  data_center: (present, view) => present.dataCenter(view as DataCenter),
  storage_domain: (present, view, options) => {
    const domain = view as StorageDomainWithStatus;
    return present.storageDomain(domain, domain.status, undefined, options.allContent);
  },
  disk: (present, view) => present.disk(view as DiskView),
  disk_attachment: (present, view) => present.diskAttachment(view as DiskAttachment),
  nic: (present, view) => present.nic(view as Nic),
  network: (present, view) => present.network(view as Network),
  vnic_profile: (present, view) => present.vnicProfile(view as VnicProfile),
  mac_pool: (present, view) => present.macPool(view as MacPool),
  template: (present, view) => present.template(view as Template),
  vm_pool: (present, view) => present.vmPool(view as VmPool),
  task: (present, view) => present.task(view as Task),
};

/** Where an embedded single object goes when its link's member is a list of references (`storage_domains`). */
const listedSingles: Record<string, string> = { storage_domains: 'storage_domain' };

/** The representation of one object, as at its own URL. */
export function presentView(present: Presenter, resource: ResourceName, view: View, options: PresentOptions): Rep {
  return presenters[resource](present, view, options);
}

/**
 * The representation of one loaded object with its followed links embedded:
 * a single linked object replaces its reference, a followed collection
 * appears as an element of its name holding the objects. Embedded objects
 * look as they do at their own URL.
 */
export function presentLoaded(present: Presenter, loaded: Loaded, id: string, options: PresentOptions): Rep {
  const rep = presentView(present, loaded.resource, loaded.views.get(id)!, options);
  for (const link of loaded.links) {
    const targets = (link.byOwner.get(id) ?? []).filter((target) => link.loaded.views.has(target)).map((target) => presentLoaded(present, link.loaded, target, options));
    const definition = resources[loaded.resource].links[link.name]!;
    if (definition.kind === 'many') {
      rep[link.name] = { [resources[link.resource].element]: targets };
    } else if (listedSingles[link.name]) {
      rep[link.name] = { [listedSingles[link.name]!]: targets };
    } else if (targets[0]) {
      rep[link.name] = targets[0];
    }
  }
  return rep;
}
