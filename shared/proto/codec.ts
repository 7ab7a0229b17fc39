import type {
  Command__Output,
  Command,
  CommandResult,
  CommandResult__Output,
  DomainState,
  DomainState__Output,
  Hello,
  Hello__Output,
  ProtoVmSpec,
  ProtoVmSpec__Output,
} from './load.js';
import type { PowerState as ProtoPowerState } from './generated/drover/agent/v1/PowerState.js';
import type { CommandKind as ProtoCommandKind } from './generated/drover/agent/v1/CommandKind.js';
import type { CommandError as ProtoCommandError } from './generated/drover/agent/v1/CommandError.js';
import type { CommandErrorKind, CommandKind, CommandOutcome, DomainStatus, HostCommand, HostFacts, PowerState, VmSpec } from '../model.js';

type Named<T> = Extract<T, string>;

const powerToProto: Record<PowerState, Named<ProtoPowerState>> = {
  running: 'RUNNING',
  paused: 'PAUSED',
  shutoff: 'SHUTOFF',
  suspended: 'SUSPENDED',
  shutting_down: 'SHUTTING_DOWN',
  crashed: 'CRASHED',
  pm_suspended: 'PM_SUSPENDED',
};

const kindToProto: Record<CommandKind, Named<ProtoCommandKind>> = {
  define: 'DEFINE',
  start: 'START',
  shutdown: 'SHUTDOWN',
  destroy: 'DESTROY',
  suspend: 'SUSPEND',
  resume: 'RESUME',
  reboot: 'REBOOT',
  undefine: 'UNDEFINE',
  pause: 'PAUSE',
};

const errorToProto: Record<CommandErrorKind, Named<ProtoCommandError>> = {
  invalid_state: 'INVALID_STATE',
  domain_not_found: 'DOMAIN_NOT_FOUND',
  invalid_command: 'INVALID_COMMAND',
  hypervisor_failure: 'HYPERVISOR_FAILURE',
  timed_out: 'TIMED_OUT',
};

function invert<K extends string, V extends string>(map: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}

const powerFromProto = invert(powerToProto);
const kindFromProto = invert(kindToProto);
const errorFromProto = invert(errorToProto);

export class ProtocolError extends Error {}

function decodeEnum<T>(map: Map<string, T>, value: unknown, what: string): T {
  const decoded = typeof value === 'string' ? map.get(value) : undefined;
  if (decoded === undefined) throw new ProtocolError(`unknown ${what} ${String(value)}`);
  return decoded;
}

export function encodeDomain(domain: DomainStatus): DomainState {
  return { uuid: domain.uuid, name: domain.name, state: powerToProto[domain.state], managed: domain.managed };
}

export function decodeDomain(domain: DomainState__Output): DomainStatus {
  return { uuid: domain.uuid, name: domain.name, state: decodeEnum(powerFromProto, domain.state, 'power state'), managed: domain.managed };
}

export function encodeSpec(spec: VmSpec): ProtoVmSpec {
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    memory_bytes: spec.memoryBytes,
    cpu_sockets: spec.cpu.sockets,
    cpu_cores: spec.cpu.cores,
    cpu_threads: spec.cpu.threads,
    os_type: spec.osType,
    display_type: spec.displayType,
    cluster_id: spec.clusterId,
  };
}

export function decodeSpec(spec: ProtoVmSpec__Output): VmSpec {
  if (spec.display_type !== 'vnc' && spec.display_type !== 'spice') throw new ProtocolError(`unknown display type ${spec.display_type}`);
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    memoryBytes: Number(spec.memory_bytes),
    cpu: { sockets: spec.cpu_sockets, cores: spec.cpu_cores, threads: spec.cpu_threads },
    osType: spec.os_type,
    displayType: spec.display_type,
    clusterId: spec.cluster_id,
  };
}

export function encodeCommand(command: HostCommand): Command {
  return {
    command_id: command.commandId,
    task_id: command.taskId,
    kind: kindToProto[command.kind],
    vm_id: command.vmId,
    spec: command.spec ? encodeSpec(command.spec) : null,
  };
}

export function decodeCommand(command: Command__Output): HostCommand {
  return {
    commandId: command.command_id,
    taskId: command.task_id,
    kind: decodeEnum(kindFromProto, command.kind, 'command kind'),
    vmId: command.vm_id,
    spec: command.spec ? decodeSpec(command.spec) : undefined,
  };
}

export function encodeOutcome(commandId: string, outcome: CommandOutcome): CommandResult {
  return {
    command_id: commandId,
    ok: outcome.ok,
    error: outcome.ok ? 'COMMAND_ERROR_UNSPECIFIED' : errorToProto[outcome.error],
    message: outcome.ok ? '' : outcome.message,
    domain: outcome.domain ? encodeDomain(outcome.domain) : null,
  };
}

export function decodeOutcome(result: CommandResult__Output): CommandOutcome {
  const domain = result.domain ? decodeDomain(result.domain) : undefined;
  if (result.ok) return { ok: true, domain };
  return { ok: false, error: decodeEnum(errorFromProto, result.error, 'command error'), message: result.message, domain };
}

export function encodeHello(facts: HostFacts): Hello {
  return {
    host_id: facts.hostId,
    hostname: facts.hostname,
    cpu_count: facts.cpuCount,
    cpu_model: facts.cpuModel,
    memory_bytes: facts.memoryBytes,
    libvirt_version: facts.libvirtVersion,
    hypervisor_type: facts.hypervisorType,
    hypervisor_version: facts.hypervisorVersion,
    libvirt_uri: facts.libvirtUri,
    agent_version: facts.agentVersion,
    cluster: facts.cluster,
  };
}

export function decodeHello(hello: Hello__Output): HostFacts {
  return {
    hostId: hello.host_id,
    hostname: hello.hostname,
    cpuCount: hello.cpu_count,
    cpuModel: hello.cpu_model,
    memoryBytes: Number(hello.memory_bytes),
    libvirtVersion: hello.libvirt_version,
    hypervisorType: hello.hypervisor_type,
    hypervisorVersion: hello.hypervisor_version,
    libvirtUri: hello.libvirt_uri,
    agentVersion: hello.agent_version,
    cluster: hello.cluster,
  };
}
