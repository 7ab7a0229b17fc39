import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export const droverNamespace = 'https://drover.dev/xmlns/domain/1';

export interface DroverMetadata {
  id: string;
  name: string;
  description: string;
  clusterId: string;
  osType: string;
}

export interface DomainConfig {
  type: 'test' | 'kvm';
  name: string;
  uuid: string;
  title: string;
  description: string;
  metadata: DroverMetadata;
  memoryKiB: number;
  vcpus: number;
  cpu: { mode?: 'host-model' | 'host-passthrough'; sockets: number; cores: number; threads: number };
  os: { type: 'hvm'; arch?: string; machine?: string; boot: string[] };
  features: string[];
  hyperv?: { relaxed: boolean; vapic: boolean; spinlocks: number };
  clock: 'utc' | 'localtime';
  onPoweroff: 'destroy' | 'restart';
  onReboot: 'destroy' | 'restart';
  onCrash: 'destroy' | 'restart';
  graphics: { type: 'vnc' | 'spice'; autoport: boolean; listen: string };
  video: { model: 'vga' | 'qxl' | 'virtio' | 'cirrus'; vramKiB?: number; heads: number };
  inputs: { type: 'tablet' | 'mouse' | 'keyboard'; bus: 'usb' | 'ps2' | 'virtio' }[];
  channels: { type: 'spicevmc' | 'unix'; targetName: string }[];
  serialConsole: boolean;
  memballoon?: 'virtio';
  rng?: 'virtio';
}

type XmlNode = Record<string, unknown>;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
});

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
    },
  };
}

function devicesNode(config: DomainConfig): XmlNode {
  const devices: XmlNode = {};
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
  devices.graphics = {
    ...element({ type: config.graphics.type, autoport: yesNo(config.graphics.autoport) }),
    listen: element({ type: 'address', address: config.graphics.listen }),
  };
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
      type: element({ arch: config.os.arch, machine: config.os.machine }, config.os.type),
      boot: config.os.boot.map((dev) => element({ dev })),
    },
    features: featuresNode(config),
    cpu: {
      ...element({ mode: config.cpu.mode }),
      topology: element({ sockets: config.cpu.sockets, cores: config.cpu.cores, threads: config.cpu.threads }),
    },
    clock: element({ offset: config.clock }),
    on_poweroff: config.onPoweroff,
    on_reboot: config.onReboot,
    on_crash: config.onCrash,
    devices: devicesNode(config),
  };
  return builder.build({ domain }) as string;
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
  };
}
