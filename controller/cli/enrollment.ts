import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { configFromEnvironment } from '../config.js';
import { CertificateAuthority } from '../pki/certificate-authority.js';
import { EnrollmentService, maxTokenLifetimeMs } from '../services/enrollment.js';
import { CliError } from './cli-error.js';
import { withDatabase } from './database.js';

async function withEnrollment<T>(use: (enrollment: EnrollmentService) => Promise<T>): Promise<T> {
  const config = configFromEnvironment();
  const ca = await CertificateAuthority.open(path.join(config.dataDir, 'pki'), config.givenCa);
  return withDatabase((orm) => use(new EnrollmentService(orm, ca, { tokenLifetimeMs: config.enrollmentTokenLifetimeMs, hostCertificateLifetimeMs: config.hostCertificateLifetimeMs })));
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > maxTokenLifetimeMs / 1000) throw new InvalidArgumentError(`a whole number of seconds from 1 to ${maxTokenLifetimeMs / 1000}`);
  return parsed;
}

const time = (epochMs: number | null) => (epochMs === null ? '-' : new Date(epochMs).toISOString());

/** `drover enrollment-token create`: a one-time token for a new host's agent (DROVER_ENROLLMENT_TOKEN). */
export function enrollmentTokenCommand(): Command {
  const tokens = new Command('enrollment-token').description('one-time tokens with which new hosts enroll');
  tokens
    .command('create')
    .description('creates a token and prints it (the only time it is shown); give it to the new host as DROVER_ENROLLMENT_TOKEN')
    .option('--description <text>', 'what the token is for', '')
    .option('--lifetime <seconds>', 'how long it can be used (an hour unless DROVER_ENROLLMENT_TOKEN_LIFETIME_SECONDS says otherwise)', seconds)
    .action(async (options: { description: string; lifetime?: number }) => {
      const created = await withEnrollment((enrollment) => enrollment.createToken({ description: options.description, lifetimeMs: options.lifetime === undefined ? undefined : options.lifetime * 1000 }));
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`Valid until ${time(created.record.expiresAt)}, for one enrollment.\n`);
    });
  return tokens;
}

/** `drover host-certificates list|revoke`: the certificates the CA issued to hosts. */
export function hostCertificatesCommand(): Command {
  const certificates = new Command('host-certificates').description('the certificates hosts hold');
  certificates
    .command('list')
    .description('lists the certificates issued to hosts: serial, host id, issued, expires, revoked')
    .option('--host <id>', 'only those of one host')
    .action(async (options: { host?: string }) => {
      const listed = await withEnrollment((enrollment) => enrollment.listCertificates(options.host));
      for (const certificate of listed) process.stdout.write(`${certificate.serial}  ${certificate.hostId}  ${time(certificate.issuedAt)}  ${time(certificate.notAfter)}  ${time(certificate.revokedAt)}\n`);
    });
  certificates
    .command('revoke')
    .description("revokes one certificate, or all of a host's; a live session that presents one ends within a heartbeat interval")
    .option('--serial <serial>', 'the certificate to revoke')
    .option('--host <id>', 'revoke every certificate of this host')
    .action(async (options: { serial?: string; host?: string }) => {
      if (Boolean(options.serial) === Boolean(options.host)) throw new CliError('give either --serial or --host');
      const target = options.serial ? { serial: options.serial.toLowerCase() } : { hostId: options.host!.toLowerCase() };
      const revoked = await withEnrollment((enrollment) => enrollment.revoke(target));
      if (revoked === 0) throw new CliError('no certificate that is not revoked already matches');
      process.stdout.write(`Revoked ${revoked} certificate(s).\n`);
    });
  return certificates;
}
