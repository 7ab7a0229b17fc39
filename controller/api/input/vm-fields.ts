import { invalid } from '../../rules/errors.js';
import type { Doc } from './body.js';

/**
 * How the VM and template input treats one field of oVirt's Vm or Template
 * type. Every field not in the table is refused: Drover never accepts a
 * setting it would then ignore.
 *
 * - `read`: Drover implements it; the route's parser reads and checks it.
 * - `identity`: an identifier clients echo back (`id`, `href`); ignored, as oVirt ignores it on input.
 * - `default`: not implemented, but oVirt's clients routinely send it with
 *   oVirt's default, which is also what Drover does; accepted only with a
 *   value `accepts` takes (`vm` is the whole input document, for defaults that
 *   depend on another field), and refused otherwise.
 * - `group`: an element whose children have rules of their own.
 */
export type FieldRule =
  | { kind: 'read' }
  | { kind: 'identity' }
  | { kind: 'default'; expected: string; accepts: (value: string, vm: Doc) => boolean }
  | { kind: 'group'; fields: FieldTable };

export type FieldTable = Readonly<Record<string, FieldRule>>;

const read: FieldRule = { kind: 'read' };
const identity: FieldRule = { kind: 'identity' };
const group = (fields: FieldTable): FieldRule => ({ kind: 'group', fields });
const only = (value: string): FieldRule => ({ kind: 'default', expected: value, accepts: (given) => given === value });
const memoryOf = (vm: Doc) => (typeof vm.memory === 'string' ? Number(vm.memory) : undefined);

/** What the VM input (POST and PUT /vms) accepts; `os.boot` is read by the boot-order parser. */
export const vmFields: FieldTable = {
  id: identity,
  href: identity,
  name: read,
  description: read,
  comment: only(''),
  cluster: read,
  template: read,
  memory: read,
  cpu: group({
    architecture: only('x86_64'),
    topology: read,
    mode: read,
  }),
  custom_cpu_model: read,
  custom_emulated_machine: read,
  bios: group({
    type: read,
    boot_menu: group({ enabled: only('false') }),
  }),
  os: group({ type: read, boot: read }),
  display: group({
    type: read,
    monitors: only('1'),
    smartcard_enabled: only('false'),
  }),
  initialization: group({
    host_name: read,
    user_name: read,
    root_password: read,
    authorized_ssh_keys: read,
    regenerate_ssh_keys: read,
    timezone: read,
    dns_servers: read,
    dns_search: read,
    custom_script: read,
  }),
  memory_policy: group({
    guaranteed: {
      kind: 'default',
      expected: 'at most the memory (Drover reserves all of it)',
      accepts: (value, vm) => /^\d+$/.test(value) && Number(value) <= (memoryOf(vm) ?? Number.MAX_SAFE_INTEGER),
    },
    max: { kind: 'default', expected: 'the memory (Drover does not hot-plug memory)', accepts: (value, vm) => /^\d+$/.test(value) && Number(value) === memoryOf(vm) },
    ballooning: only('true'),
  }),
  type: only('server'),
  stateless: only('false'),
  delete_protected: only('false'),
  start_paused: only('false'),
  use_latest_template_version: only('false'),
  soundcard_enabled: only('false'),
  high_availability: group({ enabled: read, priority: read }),
  console: group({ enabled: only('true') }),
  usb: group({ enabled: only('false') }),
  io: group({ threads: only('0') }),
  cpu_shares: only('0'),
  placement_policy: group({ affinity: read }),
};

/**
 * What the template input (POST and PUT /templates) accepts: the VM's
 * settings without a VM's own, and the VM a template is made from. A
 * template keeps oVirt's defaults for high availability and affinity (VMs
 * made from it start with those), so only those are accepted.
 */
export const templateFields: FieldTable = {
  ...Object.fromEntries(Object.entries(vmFields).filter(([name]) => !['template', 'initialization', 'use_latest_template_version', 'start_paused'].includes(name))),
  high_availability: group({ enabled: only('false') }),
  placement_policy: group({ affinity: only('migratable') }),
  vm: read,
};

/** What a start action's document accepts: cloud-init (settings in `vm` are for this start only), and oVirt's other start options at their defaults. */
export const startActionFields: FieldTable = {
  async: read,
  use_cloud_init: read,
  vm: group({ initialization: vmFields.initialization! }),
  use_sysprep: only('false'),
  use_ignition: only('false'),
  volatile: only('false'),
  pause: only('false'),
};

/** What a migrate action's document accepts: the destination host (by id or name), `force`, `async`. */
export const migrateActionFields: FieldTable = {
  async: read,
  force: read,
  host: read,
  cluster: read,
};

/**
 * Refuses a request document with fields the table does not accept: one
 * fault that names every such field, with what would have been accepted.
 */
export function refuseUnimplemented(document: Doc, table: FieldTable, root: string): void {
  const problems: string[] = [];
  walk(document, table, root, document, problems);
  if (problems.length > 0) throw invalid(`Drover does not implement ${problems.join('; ')}`);
}

function walk(node: Doc, table: FieldTable, path: string, root: Doc, problems: string[]): void {
  for (const [name, value] of Object.entries(node)) {
    const where = `${path}.${name}`;
    const rule = Object.hasOwn(table, name) ? table[name]! : undefined;
    if (!rule) problems.push(where);
    else if (rule.kind === 'group') {
      if (typeof value === 'object' && !Array.isArray(value)) walk(value, rule.fields, where, root, problems);
      else if (value !== '') problems.push(`${where} (as ${Array.isArray(value) ? 'a list' : 'text'})`);
    } else if (rule.kind === 'default') {
      if (typeof value !== 'string' || !rule.accepts(value, root)) problems.push(`${where} other than ${rule.expected}`);
    }
  }
}
