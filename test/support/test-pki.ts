import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { CertificateAuthority } from '../../controller/pki/certificate-authority.js';
import { saveIdentity, type AgentIdentity } from '../../agent/identity.js';
import { createCertificateRequest, generateKeyPair, privateKeyToPem } from '../../shared/pki/x509.js';

/** A CA of its own for tests that stand in for the controller: it gives a fake controller its server credentials and agents their identities. */
export class TestPki {
  private constructor(
    readonly ca: CertificateAuthority,
    private readonly server: { certificatePem: string; privateKeyPem: string },
  ) {}

  static async create(directory: string): Promise<TestPki> {
    const ca = await CertificateAuthority.open(directory);
    return new TestPki(ca, await ca.issueServerCertificate(['127.0.0.1', 'localhost'], 3600_000));
  }

  serverCredentials(): grpc.ServerCredentials {
    return grpc.ServerCredentials.createSsl(Buffer.from(this.ca.certificatePem), [{ cert_chain: Buffer.from(this.server.certificatePem), private_key: Buffer.from(this.server.privateKeyPem) }], true);
  }

  /** A host identity signed by this CA, kept in the agent's data directory as enrolling would keep it. */
  async enrollAgent(dataDir: string, hostId = randomUUID(), lifetimeMs = 3600_000): Promise<AgentIdentity> {
    const keys = await generateKeyPair();
    const issued = await this.ca.signHostRequest(await createCertificateRequest(keys), hostId, lifetimeMs);
    const identity = { hostId, privateKeyPem: await privateKeyToPem(keys.privateKey), certificatePem: issued.pem, caCertificatePem: this.ca.certificatePem };
    await saveIdentity(dataDir, identity);
    return identity;
  }
}
