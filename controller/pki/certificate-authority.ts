import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import {
  createCertificateRequest,
  fingerprintOf,
  generateKeyPair,
  keyPairFromPem,
  privateKeyToPem,
  randomSerialNumber,
  signingAlgorithm,
  x509,
  type KeyPair,
} from '../../shared/pki/x509.js';

const caLifetimeMs = 20 * 365 * 24 * 3600_000;
/** How far back a certificate's validity begins, for peers whose clocks are behind: five minutes, or a tenth of a short lifetime. */
const clockSkewMs = 5 * 60_000;
const hostIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const organization = 'Drover';

export interface IssuedCertificate {
  pem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

/** Who a verified host certificate names. */
export interface HostIdentity {
  hostId: string;
  serial: string;
  notAfter: number;
}

/** Where an operator's own CA is; without it the CA is generated in the data directory at first start. */
export interface GivenCa {
  certificateFile: string;
  keyFile: string;
}

export class CertificateError extends Error {}

/**
 * The controller's certificate authority. It signs the certificates of
 * enrolled hosts (subject O=Drover, OU=hosts, CN=<host id>, for client
 * authentication only) and of the controller's own endpoints (for server
 * authentication only), and tells whether a certificate a peer presents is
 * one of its host certificates. Its key never leaves the controller's data
 * directory (mode 0600).
 */
export class CertificateAuthority {
  readonly fingerprint: string;
  private readonly certificate: x509.X509Certificate;

  private constructor(
    readonly certificatePem: string,
    private readonly keys: KeyPair,
  ) {
    this.certificate = new x509.X509Certificate(certificatePem);
    this.fingerprint = fingerprintOf(certificatePem);
  }

  /** Loads the CA from `<directory>/ca.pem` and `ca.key` (or the operator's files), creating it there at first start. */
  static async open(directory: string, given?: GivenCa): Promise<CertificateAuthority> {
    if (given) return CertificateAuthority.load(given.certificateFile, given.keyFile);
    const certificateFile = path.join(directory, 'ca.pem');
    const keyFile = path.join(directory, 'ca.key');
    try {
      return await CertificateAuthority.load(certificateFile, keyFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const keys = await generateKeyPair();
    const now = Date.now();
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerialNumber(),
      name: `O=${organization}, CN=Drover CA ${randomSerialNumber().slice(0, 8)}`,
      notBefore: new Date(now - clockSkewMs),
      notAfter: new Date(now + caLifetimeMs),
      keys,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const staging = `${keyFile}.${process.pid}`;
    await writeFile(staging, await privateKeyToPem(keys.privateKey), { mode: 0o600 });
    await writeFile(certificateFile, certificate.toString('pem'), { flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return;
      throw error;
    });
    await rename(staging, keyFile);
    return CertificateAuthority.load(certificateFile, keyFile);
  }

  private static async load(certificateFile: string, keyFile: string): Promise<CertificateAuthority> {
    const [certificatePem, keyPem] = await Promise.all([readFile(certificateFile, 'utf8'), readFile(keyFile, 'utf8')]);
    await chmod(keyFile, 0o600).catch(() => undefined);
    const keys = await keyPairFromPem(keyPem, certificatePem);
    return new CertificateAuthority(certificatePem, keys);
  }

  /** Signs a host's PKCS #10 request (whose signature must hold) with a certificate naming the host id; the request's own subject is ignored. */
  async signHostRequest(requestPem: string, hostId: string, lifetimeMs: number): Promise<IssuedCertificate> {
    if (!hostIdPattern.test(hostId)) throw new CertificateError(`host id ${hostId} is not a lower-case UUID`);
    let request: x509.Pkcs10CertificateRequest;
    try {
      request = new x509.Pkcs10CertificateRequest(requestPem);
    } catch {
      throw new CertificateError('the certificate request is not a PEM-encoded PKCS #10 request');
    }
    if (!(await request.verify().catch(() => false))) throw new CertificateError('the certificate request is not signed by its own key');
    const algorithm = request.publicKey.algorithm as { name: string; namedCurve?: string };
    if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') throw new CertificateError('the certificate request must be for an ECDSA P-256 key');
    return this.issue(`O=${organization}, OU=hosts, CN=${hostId}`, request.publicKey, lifetimeMs, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], true),
    ]);
  }

  /** A key and a certificate for the controller's own endpoints, valid for the given DNS names and IP addresses. */
  async issueServerCertificate(names: string[], lifetimeMs: number): Promise<{ certificatePem: string; privateKeyPem: string; serial: string }> {
    if (!names.length) throw new CertificateError('a server certificate needs at least one name');
    const keys = await generateKeyPair();
    const request = new x509.Pkcs10CertificateRequest(await createCertificateRequest(keys));
    const issued = await this.issue(`O=${organization}, CN=${names[0]}`, request.publicKey, lifetimeMs, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], true),
      new x509.SubjectAlternativeNameExtension(names.map((name) => (isIP(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name }))),
    ]);
    return { certificatePem: `${issued.pem}\n${this.certificatePem}`, privateKeyPem: await privateKeyToPem(keys.privateKey), serial: issued.serial };
  }

  /**
   * Whether a certificate a peer presented (DER) is a host certificate of
   * this CA, valid now: signed by the CA, within its validity, for client
   * authentication, naming a host id. Revocation is the caller's to check.
   */
  hostIdentityOf(der: Buffer, now = Date.now()): HostIdentity {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch {
      throw new CertificateError('the peer certificate cannot be read');
    }
    if (!certificate.checkIssued(new X509Certificate(this.certificatePem)) || !certificate.verify(new X509Certificate(this.certificatePem).publicKey)) {
      throw new CertificateError('the peer certificate is not signed by this controller');
    }
    const notBefore = Date.parse(certificate.validFrom);
    const notAfter = Date.parse(certificate.validTo);
    if (now < notBefore || now > notAfter) throw new CertificateError('the peer certificate is not valid now');
    if (!(certificate.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2')) throw new CertificateError('the peer certificate is not a client certificate');
    const subject = Object.fromEntries(certificate.subject.split('\n').map((part) => part.split('=', 2) as [string, string]));
    if (subject.O !== organization || subject.OU !== 'hosts' || !hostIdPattern.test(subject.CN ?? '')) throw new CertificateError('the peer certificate names no host');
    return { hostId: subject.CN!, serial: certificate.serialNumber.toLowerCase(), notAfter };
  }

  private async issue(subject: string, publicKey: x509.PublicKey, lifetimeMs: number, extensions: x509.Extension[]): Promise<IssuedCertificate> {
    const serial = randomSerialNumber();
    const now = Math.floor(Date.now() / 1000) * 1000;
    const notBefore = now - Math.min(clockSkewMs, Math.ceil(lifetimeMs / 10_000) * 1000);
    const notAfter = Math.min(now + Math.ceil(lifetimeMs / 1000) * 1000, this.certificate.notAfter.getTime());
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject,
      issuer: this.certificate.subject,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      publicKey,
      signingKey: this.keys.privateKey,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.keys.publicKey),
        ...extensions,
      ],
    });
    return { pem: certificate.toString('pem'), serial, notBefore, notAfter };
  }
}
