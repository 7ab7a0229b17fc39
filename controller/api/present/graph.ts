import type { AuditEvent, Cluster, DataCenter, DiskAttachment, Host, MacPool, Network, Nic, Task, Template, VmPool, VnicProfile } from '../../db/entities.js';
import type { ResourceName } from '../../query/catalog.js';
import { resources } from '../../query/catalog.js';
import { isLoaded, type FollowedLink, type KnownDocuments, type Loaded, type View } from '../../query/queries.js';
import type { DiskView } from '../../services/disks.js';
import type { StorageDomainView } from '../../services/storage-domains.js';
import type { VmView } from '../../services/vms.js';
import type { JobView } from '../../services/jobs.js';
import type { Presenter } from './entities.js';
import { Rendered, renderPart, type MediaType, type Rep } from './representation.js';

/**
 * Options of a representation: `allContent` adds the fields that cost extra
 * work to produce. With `media`, listed and embedded objects that have a
 * version (see Loaded) are rendered in that media type once per version and
 * reused, so the representation can be rendered in that type only.
 */
export interface PresentOptions {
  allContent: boolean;
  media?: MediaType;
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
  event: (present, view) => present.event(view as AuditEvent),
  job: (present, view) => present.job(view as JobView),
};

/**
 * Single links whose object sits in a list of references in the owner's
 * document, by owner and link: a disk's `storage_domains`, a storage
 * domain's `data_centers`.
 */
const listedSingles: ReadonlyMap<string, { member: string; element: string }> = new Map([
  ['disk.storage_domains', { member: 'storage_domains', element: 'storage_domain' }],
  ['storage_domain.data_center', { member: 'data_centers', element: 'data_center' }],
]);

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
    const targets: (Rep | Rendered)[] = [];
    for (const target of link.byOwner.get(id) ?? []) if (isLoaded(link.loaded, target)) targets.push(presentObject(present, link.loaded, target, options));
    const { member, element } = placeOf(loaded.resource, link);
    if (element) {
      if (targets.length || !link.single) rep[member] = { [element]: targets };
    } else if (targets[0]) {
      rep[member] = targets[0];
    }
  }
  return rep;
}

/**
 * Where a followed link's objects go in the owner's document: a collection
 * under its name, as a list of `element`s; a single object in place of the
 * reference of the link's name, or, for single links kept in a list of
 * references, in that list.
 */
function placeOf(owner: ResourceName, link: FollowedLink): { member: string; element?: string } {
  let place = places.get(link);
  if (!place) {
    const listed = listedSingles.get(`${owner}.${link.name}`);
    place = link.single ? (listed ?? { member: link.name }) : { member: link.name, element: resources[link.resource].element };
    places.set(link, place);
  }
  return place;
}

const places = new WeakMap<FollowedLink, { member: string; element?: string }>();

const partGroup = (media: MediaType, resource: ResourceName) => `${media}:${resource}`;

/**
 * The representation of one loaded object as it appears in a list or
 * embedded in another. An object with a version (of itself and what it
 * embeds) is rendered in the request's media type once per version and
 * reused.
 */
export function presentObject(present: Presenter, loaded: Loaded, id: string, options: PresentOptions): Rep | Rendered {
  const known = loaded.known.get(id);
  if (known instanceof Rendered) return known;
  const { media } = options;
  const version = loaded.versions.get(id);
  if (!media || version === undefined) return presentLoaded(present, loaded, id, options);
  return present.parts.get(partGroup(media, loaded.resource), id, version, () => renderPart(resources[loaded.resource].element, presentLoaded(present, loaded, id, options), media));
}

/** The rendered parts a presenter has for objects at their versions in one media type, for QueryService.load. */
export function knownParts(present: Presenter, media: MediaType): KnownDocuments {
  return (resource, id, version) => present.parts.peek(partGroup(media, resource), id, version);
}
