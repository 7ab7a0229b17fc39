import { randomBytes, randomUUID } from 'node:crypto';
import type { ConsoleCommandKind, ConsoleFacts, ConsoleTicket, DisplayType } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { ServiceError, conflict, notFound, unavailable } from '../rules/errors.js';
import { connectAddress, consoleIds, defaultTicketSeconds, remoteViewerFile, ticketLength } from '../rules/consoles.js';
import { outcomeError } from '../rules/outcomes.js';
import { isRunning } from '../rules/power-states.js';
import type { Records, VmRecord } from '../state/records.js';

/** A VM's graphics console; `live` is the running console (its address is the one clients connect to), when that was asked for and the VM runs. */
export interface ConsoleView {
  vmId: string;
  protocol: DisplayType;
  live?: ConsoleFacts;
}

export interface TicketView {
  console: ConsoleView & { live: ConsoleFacts };
  password: string;
  validSeconds: number;
}

const passwordAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random password of `length` letters and digits, each drawn without bias. */
function randomPassword(length: number): string {
  let password = '';
  while (password.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && password.length < length) password += passwordAlphabet[byte % passwordAlphabet.length];
    }
  }
  return password;
}

/**
 * The graphics consoles of VMs: one per VM, of its display type. Where a
 * console listens, and its password, are the running domain's: the
 * controller asks the VM's host and keeps neither.
 */
export class ConsoleService {
  constructor(
    private readonly records: Records,
    private readonly hub: AgentHub,
  ) {}

  /** The VM's consoles; with `current`, a running VM's console as its host reports it. */
  async list(vmId: string, current: boolean): Promise<ConsoleView[]> {
    const vm = this.vmOf(vmId);
    if (!current || !isRunning(vm)) return [{ vmId, protocol: vm.displayType }];
    const live = await this.command(vm, 'describe_console');
    return [{ vmId, protocol: live.protocol, live }];
  }

  async get(vmId: string, consoleId: string, current: boolean): Promise<ConsoleView> {
    const console = (await this.list(vmId, current)).find((candidate) => consoleIds[candidate.protocol] === consoleId);
    if (!console) throw notFound('graphics console', consoleId);
    return console;
  }

  /**
   * Sets a new random password on the console of the running VM, valid for
   * `validSeconds` from when its host sets it, and answers it.
   */
  async ticket(vmId: string, consoleId: string, validSeconds = defaultTicketSeconds): Promise<TicketView> {
    const vm = this.vmOf(vmId);
    if (consoleIds[vm.displayType] !== consoleId) throw notFound('graphics console', consoleId);
    if (!isRunning(vm)) throw conflict(`VM ${vm.name} is not running; a console ticket is set on a running VM`);
    const password = randomPassword(ticketLength[vm.displayType]);
    const live = await this.command(vm, 'set_console_ticket', { password, validSeconds, protocol: vm.displayType });
    return { console: { vmId, protocol: live.protocol, live }, password, validSeconds };
  }

  /** A remote-viewer connection file for the console of the running VM, with a fresh ticket of the default validity. */
  async remoteViewerFile(vmId: string, consoleId: string): Promise<string> {
    const ticket = await this.ticket(vmId, consoleId);
    return remoteViewerFile({ vmName: this.vmOf(vmId).name, console: ticket.console.live, password: ticket.password, validSeconds: ticket.validSeconds });
  }

  private async command(vm: VmRecord, kind: ConsoleCommandKind, ticket?: ConsoleTicket): Promise<ConsoleFacts> {
    const host = this.records.host(vm.hostId);
    if (!host || host.status !== 'up') throw unavailable(`host ${host?.name ?? vm.hostId} of VM ${vm.name} is ${host?.status ?? 'unknown'}; its console cannot be reached now`);
    const commandId = randomUUID();
    const outcome = await this.hub.dispatch(host.id, { commandId, taskId: commandId, kind, vmId: vm.id, ticket });
    if (!outcome.ok) throw outcomeError(outcome);
    if (!outcome.console) throw new ServiceError('failed', 'Operation Failed', `host ${host.name} did not describe the console of VM ${vm.name}`);
    return { ...outcome.console, address: connectAddress(outcome.console, host.address) };
  }

  private vmOf(vmId: string): VmRecord {
    const vm = this.records.vm(vmId);
    if (!vm) throw notFound('VM', vmId);
    return vm;
  }
}
