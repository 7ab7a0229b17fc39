import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { DomainType } from './host-capabilities.js';

export const droverNamespace = 'https://drover.dev/xmlns/domain/1';

export interface DroverMetadata {
  id: string;
  name: string;
  description: string;
  clusterId: string;
  osType: string;
  /** The migration that moved (or moves) the running domain, written into its live definition before it leaves; see HypervisorDriver.migrate. */
  migrationId?: string;
}

/** A disk device: a file volume on a bus, named `target` in the guest, found again by its alias. */
export interface DiskConfig {
  path: string;
  format: 'qcow2' | 'raw';
  bus: 'virtio' | 'scsi' | 'sata' | 'ide';
  target: string;
  readOnly: boolean;
  serial: string;
  alias: string;
  /** A read-only CD-ROM (such as a cloud-init seed) rather than a disk; written without host caching. */
  device?: 'cdrom';
}

/** The CD-ROM drive: read-only, holding the file at `path`, or empty without one. */
export interface CdromConfig {
  path?: string;
  bus: 'sata' | 'ide';
  target: string;
  alias: string;
}

/** A network interface: on a libvirt network, or (without a source) user-mode networking with its link down. */
export interface InterfaceConfig {
  source?: { network: string };
  mac: string;
  model: 'virtio' | 'e1000' | 'rtl8139';
  linkUp: boolean;
  alias: string;
}

/** A graphics console: VNC or SPICE on `listen` (no listen element when empty), with a password valid until passwdValidTo (UTC, `YYYY-MM-DDTHH:MM:SS`). */
export interface GraphicsConfig {
  type: 'vnc' | 'spice';
  autoport: boolean;
  port?: number;
  tlsPort?: number;
  listen: string;
  passwd?: string;
  passwdValidTo?: string;
}

export interface DomainConfig {
  disks: DiskConfig[];
  cdrom?: CdromConfig;
  interfaces: InterfaceConfig[];
  scsiController: boolean;
  type: DomainType;
  name: string;
  uuid: string;
  title: string;
  description: string;
  metadata: DroverMetadata;
  memoryKiB: number;
  vcpus: number;
  cpu: { mode?: 'host-model' | 'host-passthrough' | 'maximum' | 'custom'; model?: string; sockets: number; cores: number; threads: number };
  /** `firmware: 'efi'` has libvirt choose UEFI (OVMF) firmware and its variable store: a secure-boot build with keys enrolled when `secureBoot`, else one without secure boot. */
  os: { type: 'hvm'; arch?: string; machine?: string; firmware?: 'efi'; secureBoot?: boolean; boot: string[] };
  features: string[];
  hyperv?: { relaxed: boolean; vapic: boolean; spinlocks: number };
  clock: 'utc' | 'localtime';
  onPoweroff: 'destroy' | 'restart';
  onReboot: 'destroy' | 'restart';
  onCrash: 'destroy' | 'restart';
  graphics: GraphicsConfig;
  video: { model: 'vga' | 'qxl' | 'virtio' | 'cirrus'; vramKiB?: number; heads: number };
  inputs: { type: 'tablet' | 'mouse' | 'keyboard'; bus: 'usb' | 'ps2' | 'virtio' }[];
  channels: { type: 'spicevmc' | 'unix'; targetName: string }[];
  serialConsole: boolean;
  memballoon?: 'virtio';
  rng?: 'virtio';
}

type XmlNode = Record<string, unknown>;

const xmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const needsEscaping = /[&<>"']/;
const escapeXml = (text: string) => (needsEscaping.test(text) ? text.replace(/[&<>"']/g, (character) => xmlEscapes[character]!) : text);

/**
 * Writes a node in the shape used below (`@_name` attributes, `#text`, nested
 * nodes, lists of them, '' for an empty element). A domain is written on every
 * start; this writer takes a tenth of the time of fast-xml-parser's builder.
 */
function writeElement(name: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => writeElement(name, item)).join('');
  if (typeof value !== 'object' || value === null) {
    const text = String(value ?? '');
    return text === '' ? `<${name}/>` : `<${name}>${escapeXml(text)}</${name}>`;
  }
  let attributes = '';
  let children = '';
  for (const [key, member] of Object.entries(value as XmlNode)) {
    if (member === undefined) continue;
    if (key.startsWith('@_')) attributes += ` ${key.slice(2)}="${escapeXml(String(member))}"`;
    else if (key === '#text') children += escapeXml(String(member));
    else children += writeElement(key, member);
  }
  return children === '' ? `<${name}${attributes}/>` : `<${name}${attributes}>${children}</${name}>`;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

function element(attributes: Record<string, string | number | undefined>, text?: string | number): XmlNode {
  const node: XmlNode = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) node[`@_${key}`] = String(value);
  if (text !== undefined) node['#text'] = String(text);
  return node;
}

function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'no';
}

function metadataNode(metadata: DroverMetadata): XmlNode {
  return {
    'drover:vm': {
      '@_xmlns:drover': droverNamespace,
      'drover:id': metadata.id,
      'drover:name': metadata.name,
      'drover:description': metadata.description,
      'drover:cluster-id': metadata.clusterId,
      'drover:os-type': metadata.osType,
      ...(metadata.migrationId ? { 'drover:migration-id': metadata.migrationId } : {}),
    },
  };
}

/**
 * The Drover metadata element alone and without its namespace, for replacing
 * it in a domain with virDomainSetMetadata, which puts the element and its
 * children in the namespace itself.
 */
export function serializeDroverMetadata(metadata: DroverMetadata): string {
  const node = metadataNode(metadata)['drover:vm'] as XmlNode;
  const children = Object.fromEntries(Object.entries(node).filter(([key]) => !key.startsWith('@_')).map(([key, value]) => [key.slice('drover:'.length), value]));
  return writeElement('vm', children);
}

function diskNode(disk: DiskConfig): XmlNode {
  return {
    ...element({ type: 'file', device: disk.device ?? 'disk' }),
    driver: element({ name: 'qemu', type: disk.format, cache: disk.device === 'cdrom' ? undefined : 'none' }),
    source: element({ file: disk.path }),
    target: element({ dev: disk.target, bus: disk.bus }),
    ...(disk.readOnly ? { readonly: '' } : {}),
    serial: disk.serial,
    alias: element({ name: disk.alias }),
  };
}

function cdromNode(cdrom: CdromConfig): XmlNode {
  return {
    ...element({ type: 'file', device: 'cdrom' }),
    driver: element({ name: 'qemu', type: 'raw' }),
    ...(cdrom.path ? { source: element({ file: cdrom.path }) } : {}),
    target: element({ dev: cdrom.target, bus: cdrom.bus }),
    readonly: '',
    alias: element({ name: cdrom.alias }),
  };
}

/** The XML of a CD-ROM drive, for changing its medium in a running domain. */
export function serializeCdromXml(cdrom: CdromConfig): string {
  return writeElement('disk', cdromNode(cdrom));
}

function interfaceNode(nic: InterfaceConfig): XmlNode {
  return {
    ...element({ type: nic.source ? 'network' : 'user' }),
    mac: element({ address: nic.mac }),
    ...(nic.source ? { source: element({ network: nic.source.network }) } : {}),
    model: element({ type: nic.model }),
    link: element({ state: nic.linkUp ? 'up' : 'down' }),
    alias: element({ name: nic.alias }),
  };
}

function graphicsNode(graphics: GraphicsConfig): XmlNode {
  const { type, autoport, port, tlsPort, listen, passwd, passwdValidTo } = graphics;
  return {
    ...element({ type, port, tlsPort, autoport: yesNo(autoport), passwd, passwdValidTo }),
    ...(listen ? { listen: element({ type: 'address', address: listen }) } : {}),
  };
}

/** The XML of a graphics console, for changing the password of a running domain's console. */
export function serializeGraphicsXml(graphics: GraphicsConfig): string {
  return writeElement('graphics', graphicsNode(graphics));
}

/** The XML of one device, for plugging it into or unplugging it from a running domain. */
export function serializeDeviceXml(device: { disk: DiskConfig } | { nic: InterfaceConfig }): string {
  return 'disk' in device ? writeElement('disk', diskNode(device.disk)) : writeElement('interface', interfaceNode(device.nic));
}

function devicesNode(config: DomainConfig): XmlNode {
  const devices: XmlNode = {};
  const disks = [...config.disks.map(diskNode), ...(config.cdrom ? [cdromNode(config.cdrom)] : [])];
  if (disks.length > 0) devices.disk = disks;
  if (config.scsiController) devices.controller = element({ type: 'scsi', index: 0, model: 'virtio-scsi' });
  if (config.interfaces.length > 0) devices.interface = config.interfaces.map(interfaceNode);
  if (config.serialConsole) {
    devices.serial = element({ type: 'pty' });
    devices.console = { ...element({ type: 'pty' }), target: element({ type: 'serial', port: 0 }) };
  }
  if (config.channels.length > 0) {
    devices.channel = config.channels.map((channel) => ({
      ...element({ type: channel.type }),
      target: element({ type: 'virtio', name: channel.targetName }),
    }));
  }
  if (config.inputs.length > 0) devices.input = config.inputs.map((input) => element({ type: input.type, bus: input.bus }));
  devices.graphics = graphicsNode(config.graphics);
  devices.video = { model: element({ type: config.video.model, vram: config.video.vramKiB, heads: config.video.heads, primary: 'yes' }) };
  if (config.memballoon) devices.memballoon = element({ model: config.memballoon });
  if (config.rng) devices.rng = { ...element({ model: config.rng }), backend: element({ model: 'random' }, '/dev/urandom') };
  return devices;
}

function featuresNode(config: DomainConfig): XmlNode {
  const features: XmlNode = {};
  for (const feature of config.features) features[feature] = '';
  if (config.hyperv) {
    features.hyperv = {
      '@_mode': 'custom',
      relaxed: element({ state: config.hyperv.relaxed ? 'on' : 'off' }),
      vapic: element({ state: config.hyperv.vapic ? 'on' : 'off' }),
      spinlocks: element({ state: 'on', retries: config.hyperv.spinlocks }),
    };
  }
  return features;
}

export function serializeDomainXml(config: DomainConfig): string {
  const domain: XmlNode = {
    '@_type': config.type,
    name: config.name,
    uuid: config.uuid,
    ...(config.title ? { title: config.title } : {}),
    ...(config.description ? { description: config.description } : {}),
    metadata: metadataNode(config.metadata),
    memory: element({ unit: 'KiB' }, config.memoryKiB),
    currentMemory: element({ unit: 'KiB' }, config.memoryKiB),
    vcpu: element({ placement: 'static' }, config.vcpus),
    os: {
      ...element({ firmware: config.os.firmware }),
      type: element({ arch: config.os.arch, machine: config.os.machine }, config.os.type),
      ...(config.os.firmware === 'efi' ? { firmware: { feature: ['secure-boot', 'enrolled-keys'].map((name) => element({ enabled: yesNo(config.os.secureBoot ?? false), name })) } } : {}),
      boot: config.os.boot.map((dev) => element({ dev })),
    },
    features: featuresNode(config),
    cpu: {
      ...element({ mode: config.cpu.mode, match: config.cpu.model ? 'exact' : undefined, check: config.cpu.model ? 'none' : undefined }),
      ...(config.cpu.model ? { model: element({ fallback: 'forbid' }, config.cpu.model) } : {}),
      topology: element({ sockets: config.cpu.sockets, cores: config.cpu.cores, threads: config.cpu.threads }),
    },
    clock: element({ offset: config.clock }),
    on_poweroff: config.onPoweroff,
    on_reboot: config.onReboot,
    on_crash: config.onCrash,
    devices: devicesNode(config),
  };
  return writeElement('domain', domain);
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return String((value as XmlNode)['#text']);
  return '';
}

function findDroverElement(metadata: unknown): { prefix: string; node: XmlNode } | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  for (const [tag, node] of Object.entries(metadata as XmlNode)) {
    if (!node || typeof node !== 'object') continue;
    const [prefix, local] = tag.includes(':') ? tag.split(':', 2) : ['', tag];
    const namespace = (node as XmlNode)[prefix ? `@_xmlns:${prefix}` : '@_xmlns'];
    if (local === 'vm' && namespace === droverNamespace) return { prefix, node: node as XmlNode };
  }
  return undefined;
}

export function readDroverMetadata(domainXml: string): DroverMetadata | undefined {
  const document = parser.parse(domainXml) as XmlNode;
  const domain = document.domain as XmlNode | undefined;
  const found = findDroverElement(domain?.metadata);
  if (!found) return undefined;
  const field = (local: string) => textOf(found.node[found.prefix ? `${found.prefix}:${local}` : local]);
  return {
    id: field('id'),
    name: field('name'),
    description: field('description'),
    clusterId: field('cluster-id'),
    osType: field('os-type'),
    ...(field('migration-id') ? { migrationId: field('migration-id') } : {}),
  };
}

const deviceParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (_name, jpath) => jpath === 'domain.devices.disk' || jpath === 'domain.devices.interface',
});

const orderedParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', preserveOrder: true, parseTagValue: false, trimValues: true });
const orderedBuilder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', preserveOrder: true, suppressEmptyNode: true, processEntities: true });

/** The target names (vda, sdb, ...) of a domain's disks as its XML describes them. */
export function readDiskTargets(domainXml: string): Set<string> {
  const domain = (deviceParser.parse(domainXml) as XmlNode).domain as XmlNode | undefined;
  const disks = ((domain?.devices as XmlNode | undefined)?.disk ?? []) as XmlNode[];
  return new Set(disks.map((disk) => String((disk.target as XmlNode | undefined)?.['@_dev'] ?? '')).filter(Boolean));
}

/** The CD-ROM drive of a domain that carries the alias, with its medium's path (absent for an empty drive), or undefined. */
export function readCdrom(domainXml: string, alias: string): CdromConfig | undefined {
  const domain = (deviceParser.parse(domainXml) as XmlNode).domain as XmlNode | undefined;
  const disks = ((domain?.devices as XmlNode | undefined)?.disk ?? []) as XmlNode[];
  const drive = disks.find((disk) => disk['@_device'] === 'cdrom' && (disk.alias as XmlNode | undefined)?.['@_name'] === alias);
  if (!drive) return undefined;
  const target = drive.target as XmlNode;
  const file = (drive.source as XmlNode | undefined)?.['@_file'];
  return { path: typeof file === 'string' && file !== '' ? file : undefined, bus: target['@_bus'] === 'ide' ? 'ide' : 'sata', target: String(target['@_dev']), alias };
}

/** The XML of the disk or interface of a domain that carries the alias, as the domain's XML has it, or undefined. */
export function findDeviceXml(domainXml: string, alias: string): string | undefined {
  type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };
  const children = (node: Ordered, name: string) => (node[name] as Ordered[] | undefined) ?? [];
  const document = orderedParser.parse(domainXml) as Ordered[];
  const domain = document.find((node) => 'domain' in node);
  const devices = domain ? children(domain, 'domain').find((node) => 'devices' in node) : undefined;
  for (const device of devices ? children(devices, 'devices') : []) {
    const kind = 'disk' in device ? 'disk' : 'interface' in device ? 'interface' : undefined;
    if (!kind) continue;
    const named = children(device, kind).find((node) => 'alias' in node)?.[':@']?.['@_name'];
    if (named === alias) return orderedBuilder.build([device]) as string;
  }
  return undefined;
}
