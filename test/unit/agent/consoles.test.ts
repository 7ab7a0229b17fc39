import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { pino } from 'pino';
import { configFromEnvironment } from '../../../agent/config.js';
import { CommandExecutor } from '../../../agent/commands/executor.js';
import { CommandJournal } from '../../../agent/commands/journal.js';
import { DriverError } from '../../../agent/hypervisor/driver.js';
import { FakeDriver } from '../../../agent/hypervisor/fake/driver.js';
import { liveGraphics, ticketedGraphics } from '../../../agent/hypervisor/libvirt/consoles.js';
import { designDomain } from '../../../agent/hypervisor/libvirt/designer.js';
import { serializeDomainXml, serializeGraphicsXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { LibvirtDriver } from '../../../agent/hypervisor/libvirt/driver.js';
import type { ConsoleCommand } from '../../../shared/model.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { privateTestHost } from '../../support/test-hosts.js';
import { vmSpec } from './helpers.js';

test("a guest's console listens on the loopback address unless the agent is given a display address, behind a password that expired before the guest starts", (t) => {
  const config = designDomain(vmSpec(), 'qemu');
  t.like(config.graphics, { type: 'vnc', autoport: true, listen: '127.0.0.1', passwdValidTo: '1970-01-01T00:00:00' });
  t.regex(config.graphics.passwd!, /^[A-Za-z0-9_-]{8}$/, 'a VNC password of the 8 characters libvirt allows');
  t.not(designDomain(vmSpec(), 'qemu').graphics.passwd, config.graphics.passwd, 'every definition gets a password of its own');
  t.regex(designDomain(vmSpec({ displayType: 'spice' }), 'qemu').graphics.passwd!, /^[A-Za-z0-9_-]{32}$/);
  const xml = serializeDomainXml(designDomain(vmSpec(), 'qemu', undefined, '192.0.2.10'));
  t.regex(xml, /<graphics type="vnc" autoport="yes" passwd="[A-Za-z0-9_-]{8}" passwdValidTo="1970-01-01T00:00:00"><listen type="address" address="192\.0\.2\.10"\/><\/graphics>/);
  t.notRegex(xml, /0\.0\.0\.0/);
});

test('DROVER_DISPLAY_ADDRESS takes an IPv4 or IPv6 address and defaults to the loopback address', (t) => {
  t.is(configFromEnvironment({}).displayAddress, '127.0.0.1');
  t.is(configFromEnvironment({ DROVER_DISPLAY_ADDRESS: '10.1.2.3' }).displayAddress, '10.1.2.3');
  t.is(configFromEnvironment({ DROVER_DISPLAY_ADDRESS: 'fd00::1' }).displayAddress, 'fd00::1');
  t.throws(() => configFromEnvironment({ DROVER_DISPLAY_ADDRESS: 'host.example' }), { message: /DROVER_DISPLAY_ADDRESS must be an IPv4 or IPv6 address/ });
});

test("a ticket changes only the password and its expiry of the running console, which libvirt compares the rest of; a domain without a console has none to ticket", (t) => {
  const live = `<domain><devices><graphics type='vnc' port='5903' autoport='yes' listen='10.0.0.5'><listen type='address' address='10.0.0.5'/></graphics></devices></domain>`;
  const graphics = liveGraphics(live);
  t.deepEqual(graphics, { type: 'vnc', autoport: true, listen: '10.0.0.5', port: 5903, tlsPort: 0 });
  const ticketed = ticketedGraphics(graphics, { password: 'pa55word', validSeconds: 90, protocol: 'vnc' }, new Date('2026-12-06T10:00:00.750Z'));
  t.is(serializeGraphicsXml(ticketed), '<graphics type="vnc" autoport="yes" passwd="pa55word" passwdValidTo="2026-12-06T10:01:30"><listen type="address" address="10.0.0.5"/></graphics>');
  const fixed = liveGraphics(`<domain><devices><graphics type='spice' port='5910' tlsPort='5911' autoport='no'><listen type='address' address='::1'/></graphics></devices></domain>`);
  t.regex(serializeGraphicsXml(ticketedGraphics(fixed, { password: 'x', validSeconds: 1, protocol: 'spice' }, new Date(0))), /^<graphics type="spice" port="5910" tlsPort="5911" autoport="no" passwd="x" passwdValidTo="1970-01-01T00:00:01">/);
  const error = t.throws(() => liveGraphics('<domain><devices><graphics type="rdp"/></devices></domain>'));
  t.true(error instanceof DriverError && error.kind === 'not_supported');
});

test("on libvirt's test driver, a running domain's console is described where it listens; one that is not running, or does not exist, has none; the test driver cannot change a console's password", async (t) => {
  const directory = await temporaryDirectory('consoles');
  const uri = await privateTestHost(directory.path, 'host', { memoryMiB: 4096 });
  const driver = new LibvirtDriver({ uri, dataDir: path.join(directory.path, 'agent'), displayAddress: '127.0.0.3' });
  await driver.open();
  t.teardown(async () => {
    await driver.close();
    await directory.remove();
  });
  const spec = vmSpec();
  await driver.define(spec);
  await t.throwsAsync(driver.describeConsole(spec.id), { instanceOf: DriverError, message: /cannot describe the console of domain .*: it is shutoff/ });
  await t.throwsAsync(driver.setConsoleTicket(spec.id, { password: 'abc', validSeconds: 5, protocol: 'vnc' }), { instanceOf: DriverError, message: /it is shutoff/ });
  await t.throwsAsync(driver.describeConsole(randomUUID()), { instanceOf: DriverError, message: /no domain with UUID/ });
  await driver.start(spec.id);
  t.deepEqual(await driver.describeConsole(spec.id), { protocol: 'vnc', address: '127.0.0.3', port: 0, tlsPort: 0 });
  await t.throwsAsync(driver.setConsoleTicket(spec.id, { password: 'abc', validSeconds: 5, protocol: 'spice' }), { instanceOf: DriverError, message: /the running console of domain .* is vnc, not spice/ });
  const refused = await t.throwsAsync(driver.setConsoleTicket(spec.id, { password: 'abc', validSeconds: 5, protocol: 'vnc' }));
  t.is((refused as DriverError).kind, 'not_supported');
});

test('console commands are checked before the driver sees them, a driver without consoles answers not_supported, and no log line or journal entry carries a ticket password', async (t) => {
  const directory = await temporaryDirectory('console-commands');
  const journal = await CommandJournal.open(directory.path);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    }));
  const executor = new CommandExecutor({ driver: new FakeDriver(), journal, shutdownTimeoutMs: 1_000, rebootTimeoutMs: 1_000, logger });
  t.teardown(async () => {
    await journal.close();
    await directory.remove();
  });
  const vmId = randomUUID();
  const command = (overrides: Partial<ConsoleCommand>): ConsoleCommand => ({ commandId: randomUUID(), taskId: '', kind: 'set_console_ticket', vmId, ...overrides });
  t.like(await executor.execute(command({})), { ok: false, error: 'invalid_command', message: 'set_console_ticket needs a ticket' });
  t.like(await executor.execute(command({ ticket: { password: 'two words', validSeconds: 5, protocol: 'vnc' } })), { ok: false, error: 'invalid_command' });
  t.like(await executor.execute(command({ ticket: { password: 'x'.repeat(65), validSeconds: 5, protocol: 'vnc' } })), { ok: false, error: 'invalid_command' });
  t.like(await executor.execute(command({ ticket: { password: 'secret12', validSeconds: 0, protocol: 'vnc' } })), { ok: false, error: 'invalid_command', message: "the ticket's validity of 0 seconds is not between 1 and 86400" });
  t.like(await executor.execute(command({ ticket: { password: 'secret12', validSeconds: 86_401, protocol: 'vnc' } })), { ok: false, error: 'invalid_command' });
  t.like(await executor.execute(command({ ticket: { password: 'secret12', validSeconds: 60, protocol: 'vnc' } })), { ok: false, error: 'not_supported' });
  t.like(await executor.execute(command({ kind: 'describe_console' })), { ok: false, error: 'not_supported' });
  t.true(lines.some((line) => line.includes('(hidden)')), 'the ticket commands were logged');
  t.false(lines.some((line) => line.includes('secret12')), 'without their passwords');
  await journal.close();
  const journaled = await Promise.all((await readdir(directory.path)).map((file) => readFile(path.join(directory.path, file), 'utf8')));
  t.true(journaled.join('').includes('not_supported'), 'the outcomes were journaled');
  t.false(journaled.join('').includes('secret12'), 'without the passwords');
});
