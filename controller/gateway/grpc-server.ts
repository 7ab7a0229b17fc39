import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadAgentProtocol, type AgentMessage__Output, type ControllerMessage } from '../../shared/proto/load.js';
import { ProtocolError, decodeDomain, decodeHello, decodeMigrationProgress, decodeOutcome, decodeUsage, encodeCommand } from '../../shared/proto/codec.js';
import type { CommandOutcome, DomainStatus, MigrationProgress, StorageUsage } from '../../shared/model.js';
import type { HostService } from '../services/hosts.js';
import type { EnrollmentService } from '../services/enrollment.js';
import type { HostIdentity } from '../pki/certificate-authority.js';
import { ServiceError } from '../rules/errors.js';
import { agentText, checkDomain, checkHostFacts, checkOutcome, ReportRefused } from '../rules/agent-reports.js';
import type { AgentHub, AgentSessionSink } from '../agents/agent-hub.js';
import { grpcStatusOf } from './grpc-status.js';
import { staticCertificates } from './certificates.js';

type SessionStream = grpc.ServerDuplexStream<AgentMessage__Output, ControllerMessage>;
type UnaryCall<Request> = grpc.ServerUnaryCall<Request, unknown>;

/** A refusal with the gRPC status the protocol names for it. */
class Refusal extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

interface LiveSession {
  identity: HostIdentity;
  sink: AgentSessionSink;
}

export interface GatewayOptions {
  /** The controller's server certificate chain and key. */
  serverCertificate: { certificatePem: string; privateKeyPem: string };
  /** Records the space a host reports of a storage domain; false when the domain is not the host's to report. */
  storageReported: (hostId: string, usage: StorageUsage) => Promise<boolean>;
  /** Takes in a migration's progress as its source reports it; false when it was not about a migration this host sends. */
  migrationProgress: (hostId: string, commandId: string, vmId: string, progress: MigrationProgress) => boolean;
}

function statusOf(error: unknown): grpc.status {
  if (error instanceof Refusal) return error.code;
  if (error instanceof ServiceError) return grpcStatusOf[error.kind];
  if (error instanceof ProtocolError || error instanceof ReportRefused) return grpc.status.INVALID_ARGUMENT;
  return grpc.status.INTERNAL;
}

/**
 * Serves the agent protocol over TLS: enrollment, renewal, and sessions of
 * hosts that present their certificate; translates proto messages to hub
 * and host-service calls. Every message of a session is taken as the word of
 * the host its certificate names.
 */
export class AgentGatewayServer {
  private readonly server = new grpc.Server({ 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private readonly streams = new Map<SessionStream, LiveSession | undefined>();
  private revocationTimer?: NodeJS.Timeout;
  boundPort = 0;

  constructor(
    private readonly hub: AgentHub,
    private readonly hosts: HostService,
    private readonly enrollment: EnrollmentService,
    private readonly log: Logger,
    private readonly options: GatewayOptions,
  ) {
    const protocol = loadAgentProtocol();
    this.server.addService(protocol.drover.agent.v1.AgentGateway.service, {
      CaCertificate: (_call: UnaryCall<unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, { certificate_pem: this.enrollment.ca.certificatePem }),
      Enroll: (call: UnaryCall<{ token: string; certificate_request_pem: string }>, callback: grpc.sendUnaryData<unknown>) =>
        this.unary(callback, async () => {
          const enrolled = await this.enrollment.enroll(call.request.token, call.request.certificate_request_pem);
          this.log.info({ hostId: enrolled.hostId, peer: call.getPeer() }, 'host enrolled');
          return { host_id: enrolled.hostId, certificate_pem: enrolled.certificatePem, ca_certificate_pem: enrolled.caCertificatePem };
        }),
      Renew: (call: UnaryCall<{ certificate_request_pem: string }>, callback: grpc.sendUnaryData<unknown>) =>
        this.unary(callback, async () => {
          const identity = await this.enrollment.verifyPeer(call.getAuthContext()?.sslPeerCertificate?.raw);
          const certificatePem = await this.enrollment.renew(identity, call.request.certificate_request_pem);
          this.log.info({ hostId: identity.hostId }, 'host certificate renewed');
          return { certificate_pem: certificatePem };
        }),
      Session: (stream: SessionStream) => this.session(stream),
    });
  }

  listen(address: string): Promise<number> {
    const { certificatePem, privateKeyPem } = this.options.serverCertificate;
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(
      staticCertificates({ certificate: Buffer.from(certificatePem), privateKey: Buffer.from(privateKeyPem) }),
      staticCertificates({ caCertificate: Buffer.from(this.enrollment.ca.certificatePem) }),
      false,
    );
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (error, port) => {
        if (error) return reject(error);
        this.boundPort = port;
        this.revocationTimer = setInterval(() => void this.endRevokedSessions(), this.hosts.heartbeatIntervalMs);
        resolve(port);
      });
    });
  }

  async close(): Promise<void> {
    clearInterval(this.revocationTimer);
    for (const stream of this.streams.keys()) stream.end();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
  }

  /** Ends the sessions whose certificate was revoked since they began, whoever revoked it. */
  async endRevokedSessions(): Promise<void> {
    const live = [...this.streams].filter((entry): entry is [SessionStream, LiveSession] => entry[1] !== undefined);
    try {
      const revoked = await this.enrollment.revokedAmong(live.map(([, session]) => session.identity.serial));
      for (const [stream, session] of live) {
        if (revoked.has(session.identity.serial)) this.refuse(stream, session.identity.hostId, new Refusal(grpc.status.UNAUTHENTICATED, `certificate ${session.identity.serial} was revoked`));
      }
    } catch (error) {
      this.log.error({ err: error }, 'could not check the certificates of live sessions');
    }
  }

  private unary(callback: grpc.sendUnaryData<unknown>, work: () => Promise<unknown>): void {
    work().then(
      (response) => callback(null, response),
      (error: unknown) => {
        const code = statusOf(error);
        if (code === grpc.status.INTERNAL) this.log.error({ err: error }, 'agent call failed');
        callback({ code, details: error instanceof Error ? error.message : String(error) });
      },
    );
  }

  private refuse(stream: SessionStream, hostId: string | undefined, error: unknown): void {
    const code = statusOf(error);
    this.log.warn({ err: error, hostId, peer: stream.getPeer() }, 'closing agent session');
    stream.emit('error', { code, details: error instanceof Error ? error.message : String(error) });
  }

  private session(stream: SessionStream): void {
    this.streams.set(stream, undefined);
    let verified: HostIdentity | undefined;
    let live: LiveSession | undefined;
    let refused = false;
    const fail = (error: unknown) => {
      if (refused) return;
      refused = true;
      this.refuse(stream, verified?.hostId, error);
    };
    let work: Promise<void> = this.enrollment
      .verifyPeer(stream.getAuthContext()?.sslPeerCertificate?.raw)
      .then((identity) => void (verified = identity))
      .catch(fail);
    const quietMs = 2 * this.hosts.heartbeatIntervalMs;
    const busy = (hostId: string) => new Refusal(grpc.status.ALREADY_EXISTS, `host ${hostId} has a live session; a new one is taken only once that one has been silent for two heartbeat intervals`);

    const welcome = async (message: AgentMessage__Output, identity: HostIdentity) => {
      if (message.body !== 'hello' || !message.hello) throw new ProtocolError('the first message of a session must be a hello');
      const facts = decodeHello(message.hello);
      checkHostFacts(facts);
      if (facts.hostId !== identity.hostId) throw new Refusal(grpc.status.PERMISSION_DENIED, `the session's certificate names host ${identity.hostId}, not ${facts.hostId}`);
      if (!this.hub.admits(identity.hostId, quietMs)) throw busy(identity.hostId);
      await this.hosts.register(facts);
      const sink: AgentSessionSink = {
        sendCommand: (command) => stream.write({ command: encodeCommand(command) }),
        close: (reason) => {
          this.log.info({ hostId: identity.hostId, reason }, 'ending agent session');
          stream.end();
        },
      };
      stream.write({ welcome: { heartbeat_interval_ms: this.hosts.heartbeatIntervalMs } });
      if (!this.hub.attach(identity.hostId, sink, quietMs)) throw busy(identity.hostId);
      live = { identity, sink };
      this.streams.set(stream, live);
      this.log.info({ hostId: identity.hostId, hostname: facts.hostname }, 'agent connected');
    };

    const handle = async (message: AgentMessage__Output) => {
      if (refused) return;
      if (!live) return welcome(message, verified!);
      const hostId = live.identity.hostId;
      this.hub.touch(hostId);
      switch (message.body) {
        case 'heartbeat':
          return;
        case 'inventory': {
          const domains = (message.inventory?.domains ?? []).map(decodeDomain);
          domains.forEach(checkDomain);
          this.warnOfOthersVms(hostId, domains);
          return this.hosts.inventoryReported(hostId, domains);
        }
        case 'state_change': {
          if (!message.state_change?.domain) throw new ProtocolError('state change without a domain');
          const domain = decodeDomain(message.state_change.domain);
          checkDomain(domain);
          if (!message.state_change.removed) this.warnOfOthersVms(hostId, [domain]);
          return this.hosts.domainChanged(hostId, { domain, removed: message.state_change.removed });
        }
        case 'hypervisor_unreachable':
          return this.hosts.hypervisorUnreachable(hostId, agentText(message.hypervisor_unreachable?.reason ?? '', 512));
        case 'storage_report':
          for (const usage of message.storage_report?.usage ?? []) {
            const decoded = decodeUsage(usage);
            if (!(await this.options.storageReported(hostId, decoded))) this.log.warn({ hostId, storageDomainId: decoded.storageId }, 'dropped a storage report about a storage domain that is not the host’s to report');
          }
          return;
        case 'migration_progress': {
          if (!message.migration_progress) throw new ProtocolError('empty migration progress');
          const { commandId, vmId, progress } = decodeMigrationProgress(message.migration_progress);
          if (!this.options.migrationProgress(hostId, commandId, vmId, progress)) this.log.debug({ hostId, commandId }, 'dropped the progress of a migration this host does not send');
          return;
        }
        case 'command_result': {
          if (!message.command_result) throw new ProtocolError('empty command result');
          return this.commandResult(hostId, message.command_result.command_id, checkOutcome(decodeOutcome(message.command_result)));
        }
        default:
          throw new ProtocolError(`unexpected message ${message.body ?? 'without a body'}`);
      }
    };
    stream.on('data', (message: AgentMessage__Output) => {
      work = work.then(() => handle(message)).catch(fail);
    });
    const end = () => {
      this.streams.delete(stream);
      if (live) {
        const { hostId } = live.identity;
        this.hub.detach(hostId, live.sink);
        if (!this.hub.isConnected(hostId)) this.hosts.sessionEnded(hostId);
        this.log.info({ hostId }, 'agent disconnected');
        live = undefined;
      }
    };
    stream.on('end', () => {
      end();
      stream.end();
    });
    stream.on('error', end);
    stream.on('cancelled', end);
  }

  private warnOfOthersVms(hostId: string, domains: DomainStatus[]): void {
    for (const other of this.hosts.reportedVmsOfOtherHosts(hostId, domains)) {
      this.log.warn({ hostId, vmId: other.vmId, vmHostId: other.hostId }, 'a host reports a domain of a VM recorded on another host: it counts as a copy on the reporting host, never as word about the other');
    }
  }

  /**
   * A command's outcome carries the domain's state right after the command,
   * in place of a separate state change: the host's own word about its own
   * domain. The outcome completes the command only when it was sent to this
   * host.
   */
  private commandResult(hostId: string, commandId: string, outcome: CommandOutcome): void {
    if (outcome.domain) this.hosts.domainChanged(hostId, { domain: outcome.domain, removed: false });
    if (!this.hub.complete(hostId, commandId, outcome)) this.log.warn({ hostId, commandId }, 'dropped a command result for a command not sent to this host, or already done');
  }
}
