import { XMLParser } from 'fast-xml-parser';

/** The domain types Drover defines domains with: hardware virtualization, QEMU's emulation (TCG), or libvirt's test driver. */
export const domainTypes = ['kvm', 'qemu', 'test'] as const;
export type DomainType = (typeof domainTypes)[number];

export function isDomainType(value: string): value is DomainType {
  return (domainTypes as readonly string[]).includes(value);
}

/** What a host's capabilities document says that Drover uses. */
export interface HostCapabilities {
  /** The host's architecture, for example "x86_64". */
  arch: string;
  /** The host CPU's model name as libvirt reports it, or '' when it reports none. */
  cpuModel: string;
  /** The domain types offered for hardware-virtualized guests of the host's architecture (of any architecture when none is of the host's). */
  domainTypes: DomainType[];
}

/** A `<guest>` of the capabilities document, as the parser reads it. */
interface GuestElement {
  os_type?: string;
  arch?: { '@_name'?: string; domain?: Array<{ '@_type'?: string }> };
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'guest' || name === 'domain' });

/** Reads a capabilities document (virConnectGetCapabilities). */
export function parseCapabilities(xml: string): HostCapabilities {
  const capabilities = parser.parse(xml)?.capabilities ?? {};
  const cpu = capabilities.host?.cpu ?? {};
  const arch = String(cpu.arch ?? '');
  const model = typeof cpu.model === 'object' ? cpu.model['#text'] : cpu.model;
  const guests = ((capabilities.guest ?? []) as GuestElement[]).filter((guest) => guest?.os_type === 'hvm');
  const native = guests.filter((guest) => guest.arch?.['@_name'] === arch);
  const offered = new Set<DomainType>();
  for (const guest of native.length ? native : guests) {
    for (const domain of guest.arch?.domain ?? []) {
      const type = domain['@_type'] ?? '';
      if (isDomainType(type)) offered.add(type);
    }
  }
  return { arch, cpuModel: String(model ?? ''), domainTypes: [...offered] };
}

/**
 * The domain type for a host's guests: the operator's choice when given
 * (refused when the host does not offer it), otherwise KVM when the host
 * offers it, then QEMU's emulation, then the test driver's type.
 */
export function chooseDomainType(capabilities: HostCapabilities, override?: DomainType): DomainType {
  if (override) {
    if (!capabilities.domainTypes.includes(override)) {
      throw new Error(`this host does not offer domain type ${override} for ${capabilities.arch || 'its architecture'}; it offers ${capabilities.domainTypes.join(', ') || 'none'}`);
    }
    return override;
  }
  for (const preferred of domainTypes) if (capabilities.domainTypes.includes(preferred)) return preferred;
  throw new Error(`this host offers no domain type Drover knows (${domainTypes.join(', ')}) for ${capabilities.arch || 'its architecture'}`);
}
