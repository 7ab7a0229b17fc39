import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadAgentProtocol, type AgentMessage__Output, type ControllerMessage } from '../../shared/proto/load.js';
import { ProtocolError, decodeDomain, decodeHello, decodeOutcome, decodeUsage, encodeCommand } from '../../shared/proto/codec.js';
import type { CommandOutcome, HostFacts, StorageUsage } from '../../shared/model.js';
import type { HostService } from '../services/hosts.js';
import { ServiceError } from '../rules/errors.js';
import type { AgentHub, AgentSessionSink } from '../agents/agent-hub.js';
import { grpcStatusOf } from './grpc-status.js';

type SessionStream = grpc.ServerDuplexStream<AgentMessage__Output, ControllerMessage>;

/** Serves the agent protocol: translates proto messages to hub and host-service calls. */
export class AgentGatewayServer {
  private readonly server = new grpc.Server({ 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 });
  private readonly streams = new Set<SessionStream>();
  boundPort = 0;

  constructor(
    private readonly hub: AgentHub,
    private readonly hosts: HostService,
    private readonly log: Logger,
    private readonly storageReported: (usage: StorageUsage) => Promise<void> = async () => undefined,
  ) {
    const protocol = loadAgentProtocol();
    this.server.addService(protocol.drover.agent.v1.AgentGateway.service, { Session: (stream: SessionStream) => this.session(stream) });
  }

  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error) return reject(error);
        this.boundPort = port;
        resolve(port);
      });
    });
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.end();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
  }

  /** A command's outcome carries the domain's state right after the command, in place of a separate state change. */
  private commandResult(hostId: string, commandId: string, outcome: CommandOutcome): void {
    if (outcome.domain) this.hosts.domainChanged(hostId, { domain: outcome.domain, removed: false });
    this.hub.complete(commandId, outcome);
  }

  private session(stream: SessionStream): void {
    this.streams.add(stream);
    let hostId: string | undefined;
    let sink: AgentSessionSink | undefined;
    let work = Promise.resolve();
    const fail = (error: unknown) => {
      const code = error instanceof ServiceError ? grpcStatusOf[error.kind] : error instanceof ProtocolError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
      this.log.warn({ err: error, hostId }, 'closing agent session');
      stream.emit('error', { code, details: error instanceof Error ? error.message : String(error) });
    };
    const handle = async (message: AgentMessage__Output) => {
      if (!hostId) {
        if (message.body !== 'hello' || !message.hello) throw new ProtocolError('the first message of a session must be a hello');
        const facts = decodeHello(message.hello);
        validateHello(facts);
        await this.hosts.register(facts);
        hostId = facts.hostId;
        sink = {
          sendCommand: (command) => stream.write({ command: encodeCommand(command) }),
          close: (reason) => {
            this.log.info({ hostId, reason }, 'ending agent session');
            stream.end();
          },
        };
        stream.write({ welcome: { heartbeat_interval_ms: this.hosts.heartbeatIntervalMs } });
        this.hub.attach(hostId, sink);
        this.log.info({ hostId, hostname: facts.hostname }, 'agent connected');
        return;
      }
      this.hub.touch(hostId);
      switch (message.body) {
        case 'heartbeat':
          return;
        case 'inventory':
          return this.hosts.inventoryReported(hostId, (message.inventory?.domains ?? []).map(decodeDomain));
        case 'state_change':
          if (!message.state_change?.domain) throw new ProtocolError('state change without a domain');
          return this.hosts.domainChanged(hostId, { domain: decodeDomain(message.state_change.domain), removed: message.state_change.removed });
        case 'hypervisor_unreachable':
          return this.hosts.hypervisorUnreachable(hostId, message.hypervisor_unreachable?.reason ?? '');
        case 'storage_report':
          for (const usage of message.storage_report?.usage ?? []) await this.storageReported(decodeUsage(usage));
          return;
        case 'command_result':
          if (!message.command_result) throw new ProtocolError('empty command result');
          return this.commandResult(hostId, message.command_result.command_id, decodeOutcome(message.command_result));
        default:
          throw new ProtocolError(`unexpected message ${message.body ?? 'without a body'}`);
      }
    };
    stream.on('data', (message: AgentMessage__Output) => {
      work = work.then(() => handle(message)).catch(fail);
    });
    const end = () => {
      this.streams.delete(stream);
      if (hostId && sink) {
        this.hub.detach(hostId, sink);
        if (!this.hub.isConnected(hostId)) this.hosts.sessionEnded(hostId);
        this.log.info({ hostId }, 'agent disconnected');
      }
    };
    stream.on('end', () => {
      end();
      stream.end();
    });
    stream.on('error', end);
    stream.on('cancelled', end);
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function validateHello(facts: HostFacts): void {
  if (!uuidPattern.test(facts.hostId)) throw new ProtocolError(`host id ${facts.hostId} is not a UUID`);
  if (!facts.hostname) throw new ProtocolError('hello without a hostname');
}
