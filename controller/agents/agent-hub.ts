import type { CommandOutcome, HostCommand } from '../../shared/model.js';
import { unavailable } from '../rules/errors.js';

/** How the hub sends a command down one agent session. */
export interface AgentSessionSink {
  sendCommand(command: HostCommand): void;
  close(reason: string): void;
}

interface PendingCommand {
  hostId: string;
  command: HostCommand;
  resolve(outcome: CommandOutcome): void;
  reject(error: Error): void;
}

/**
 * Tracks which agents are connected and routes commands to them. A command
 * whose host is away stays pending and is sent again when the agent
 * reconnects (agents answer repeated command ids with the first outcome); it
 * fails as unavailable once the host is declared non-responsive.
 */
export class AgentHub {
  private readonly sessions = new Map<string, AgentSessionSink>();
  private readonly lastSeen = new Map<string, number>();
  private readonly pending = new Map<string, PendingCommand>();
  private readonly unreachable = new Set<string>();

  /**
   * Makes a new session the host's, unless the host's live session was heard
   * from within `quietMs`: then it returns false and changes nothing. A live
   * session quiet for longer is closed and replaced.
   */
  attach(hostId: string, session: AgentSessionSink, quietMs: number): boolean {
    const previous = this.sessions.get(hostId);
    if (previous && previous !== session) {
      if (!this.admits(hostId, quietMs)) return false;
      previous.close('replaced by a new session after it fell silent');
    }
    this.sessions.set(hostId, session);
    this.unreachable.delete(hostId);
    this.touch(hostId);
    for (const pending of this.pending.values()) {
      if (pending.hostId === hostId) session.sendCommand(pending.command);
    }
    return true;
  }

  /** Whether a new session for the host would be attached now: the host has no session, or its session was silent for `quietMs`. */
  admits(hostId: string, quietMs: number): boolean {
    return !this.sessions.has(hostId) || Date.now() - (this.lastSeen.get(hostId) ?? 0) >= quietMs;
  }

  /** Ends the host's session, if it has one (its certificate was revoked, say). */
  end(hostId: string, reason: string): void {
    const session = this.sessions.get(hostId);
    if (!session) return;
    this.sessions.delete(hostId);
    session.close(reason);
  }

  detach(hostId: string, session: AgentSessionSink): void {
    if (this.sessions.get(hostId) === session) this.sessions.delete(hostId);
  }

  touch(hostId: string): void {
    this.lastSeen.set(hostId, Date.now());
  }

  lastSeenAt(hostId: string): number | undefined {
    return this.lastSeen.get(hostId);
  }

  isConnected(hostId: string): boolean {
    return this.sessions.has(hostId);
  }

  dispatch(hostId: string, command: HostCommand): Promise<CommandOutcome> {
    if (this.unreachable.has(hostId)) {
      return Promise.reject(unavailable(`host ${hostId} is not responding`));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(command.commandId, { hostId, command, resolve, reject });
      this.sessions.get(hostId)?.sendCommand(command);
    });
  }

  /** Completes a command with its outcome, when it was sent to this host; returns whether it was. */
  complete(hostId: string, commandId: string, outcome: CommandOutcome): boolean {
    const pending = this.pending.get(commandId);
    if (!pending || pending.hostId !== hostId) return false;
    this.pending.delete(commandId);
    pending.resolve(outcome);
    return true;
  }

  /** Fails every command waiting for the host and refuses new ones until it reconnects. */
  markUnreachable(hostId: string): void {
    this.unreachable.add(hostId);
    const session = this.sessions.get(hostId);
    if (session) {
      this.sessions.delete(hostId);
      session.close('the agent missed its heartbeats');
    }
    for (const [commandId, pending] of this.pending) {
      if (pending.hostId !== hostId) continue;
      this.pending.delete(commandId);
      pending.reject(unavailable(`host ${hostId} stopped responding; the outcome of the operation is unknown until it reconnects`));
    }
  }

  closeAll(): void {
    for (const session of this.sessions.values()) session.close('controller shutting down');
    this.sessions.clear();
    for (const pending of this.pending.values()) pending.reject(unavailable('controller shutting down'));
    this.pending.clear();
  }
}
