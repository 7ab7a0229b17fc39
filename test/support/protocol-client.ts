import * as grpc from '@grpc/grpc-js';
import { enroll, identityCredentials, parseEnrollmentToken } from '../../agent/link/enrollment.js';
import type { AgentIdentity } from '../../agent/identity.js';
import { loadAgentProtocol, type AgentGatewayClient, type AgentMessage, type ControllerMessage__Output } from '../../shared/proto/load.js';
import { eventually } from './eventually.js';

export interface SessionEnd {
  code: grpc.status;
  details: string;
}

/** One session of a hand-driven agent: what it received, and how it ended. */
export class ProtocolSession {
  readonly received: ControllerMessage__Output[] = [];
  end?: SessionEnd;
  readonly ended: Promise<SessionEnd>;

  constructor(private readonly call: grpc.ClientDuplexStream<AgentMessage, ControllerMessage__Output>) {
    this.ended = new Promise((resolve) => {
      const finish = (end: SessionEnd) => {
        this.end ??= end;
        resolve(this.end);
      };
      call.on('data', (message: ControllerMessage__Output) => this.received.push(message));
      call.on('error', (error: grpc.ServiceError) => finish({ code: error.code, details: error.details }));
      call.on('end', () => finish({ code: grpc.status.OK, details: '' }));
    });
  }

  send(...messages: AgentMessage[]): void {
    for (const message of messages) this.call.write(message);
  }

  /** Resolves once the controller has welcomed the session; rejects with how it ended if it ended instead. */
  async welcomed(): Promise<void> {
    const welcome = eventually(() => this.end !== undefined || this.received.some((message) => message.body === 'welcome'), 'a welcome or the end of the session');
    await welcome;
    if (this.end) throw new Error(`the session ended: ${this.end.code} ${this.end.details}`);
  }

  close(): Promise<SessionEnd> {
    this.call.cancel();
    return this.ended;
  }
}

/**
 * An agent driven by hand over the real protocol, as an attacker with a
 * client of its own would drive it: with the identity it enrolled for, with
 * another's, or with none.
 */
export class ProtocolClient {
  private readonly client: AgentGatewayClient;

  constructor(
    readonly address: string,
    readonly identity?: AgentIdentity,
    credentials?: grpc.ChannelCredentials,
  ) {
    const { AgentGateway } = loadAgentProtocol().drover.agent.v1;
    this.client = new AgentGateway(address, credentials ?? (identity ? identityCredentials(identity) : grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false })), { 'grpc.use_local_subchannel_pool': 1 });
  }

  static async enroll(address: string, token: string): Promise<ProtocolClient> {
    return new ProtocolClient(address, await enroll(address, parseEnrollmentToken(token)));
  }

  session(): ProtocolSession {
    return new ProtocolSession(this.client.Session());
  }

  /** A Hello for the client's own host (or the one given), with facts a small real host would report. */
  hello(overrides: Record<string, unknown> = {}): AgentMessage {
    return {
      hello: {
        host_id: this.identity?.hostId ?? '00000000-0000-4000-8000-000000000000',
        hostname: 'rogue',
        cpu_count: 2,
        cpu_model: 'x86_64',
        memory_bytes: 2 ** 31,
        libvirt_version: '9.0.0',
        hypervisor_type: 'TEST',
        libvirt_uri: 'test:///default',
        agent_version: '0.1.0',
        domain_type: 'test',
        ...overrides,
      },
    };
  }

  close(): void {
    this.client.close();
  }
}
