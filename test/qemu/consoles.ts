import type { ExecutionContext, TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { ProcessSystem } from '../support/process-system.js';
import { RfbSecurity, connectionRefused, rfbAuthenticate, rfbSecurityTypes, spiceAuthenticate } from '../support/console-clients.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

/** A loopback address other than 127.0.0.1, so that a console listening on it alone is told apart from one listening on every interface. */
const displayAddress = '127.0.0.2';
const vncId = '766e63';
const spiceId = '7370696365';

async function expectFault(t: ExecutionContext, response: { status: number; text: string; body: any }, status: number, detail: RegExp, what: string): Promise<void> {
  t.is(response.status, status, `${what}: ${response.text}`);
  t.regex(String(response.body?.fault?.detail ?? response.body?.detail ?? ''), detail, `${what}: ${response.text}`);
}

/** Graphics consoles of guests on real QEMU: where they listen, their tickets, and who can connect. */
export function qemuConsoleSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a guest's VNC or SPICE console listens on the display address only, needs a ticket, and takes the ticket's password until it expires`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true, agentEnvironment: { DROVER_DISPLAY_ADDRESS: displayAddress } } });
    t.teardown(() => system.close());
    const { api } = system;
    const daemon = system.qemuDaemon('alpha');
    const vmId = await api.createVm('qemu-console', 128);
    const consoles = `/vms/${vmId}/graphicsconsoles`;

    const vm = await api.vm(vmId);
    t.true(vm.link.some((link: any) => link.rel === 'graphicsconsoles' && link.href.endsWith(consoles)), 'the VM links its consoles');
    const stopped = await api.get(consoles, { accept: 'json' });
    t.is(stopped.status, 200, stopped.text);
    t.deepEqual(
      stopped.body.graphics_console.map((console: any) => [console.id, console.protocol, console.address, console.port]),
      [[vncId, 'vnc', undefined, undefined]],
      'one VNC console, with no address or port while the VM is down',
    );
    await expectFault(t, await api.post(`${consoles}/${vncId}/ticket`, '<action/>'), 409, /not running/, 'a ticket for a VM that is down');
    await expectFault(t, await api.post(`${consoles}/${vncId}/remoteviewerconnectionfile`, '<action/>'), 409, /not running/, 'a connection file for a VM that is down');

    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    const live = await api.get(`${consoles}/${vncId}?current=true`, { accept: 'json' });
    t.is(live.status, 200, live.text);
    t.is(live.body.address, displayAddress, 'the running console listens on the display address');
    const port = Number(live.body.port);
    t.true(port >= 5900, `the running console has its port (${live.text})`);
    const listed = await api.get(`${consoles}?current=true`, { accept: 'json' });
    t.deepEqual(listed.body.graphics_console.map((console: any) => [console.id, console.address, console.port]), [[vncId, displayAddress, String(port)]]);
    const liveXml = await daemon.virsh('dumpxml', vmId);
    t.regex(liveXml, new RegExp(`<graphics type='vnc' port='${port}' autoport='yes' listen='${displayAddress.replaceAll('.', '\\.')}'`), 'libvirt has the console on the display address');

    t.true(await connectionRefused('127.0.0.1', port), 'nothing listens on the port at another address');
    const securityTypes = await rfbSecurityTypes(displayAddress, port);
    t.true(securityTypes.includes(RfbSecurity.vncAuthentication), `VNC Authentication is required (offered: ${securityTypes.join(', ')})`);
    t.false(securityTypes.includes(RfbSecurity.none), 'no connection without authentication');
    t.false((await rfbAuthenticate(displayAddress, port, '')).accepted, 'without a ticket an empty password is refused');
    t.false((await rfbAuthenticate(displayAddress, port, 'password')).accepted, 'without a ticket a guessed password is refused');

    const issuedAt = Date.now();
    const ticketed = await api.post(`${consoles}/${vncId}/ticket`, '<action><ticket><expiry>3</expiry></ticket></action>', { accept: 'json' });
    t.is(ticketed.status, 200, ticketed.text);
    t.is(ticketed.body.status, 'complete');
    t.is(ticketed.body.ticket.expiry, '3');
    const password = ticketed.body.ticket.value as string;
    t.regex(password, /^[A-Za-z0-9]{8}$/, 'a VNC ticket has the 8 characters VNC authentication uses');
    t.deepEqual(await rfbAuthenticate(displayAddress, port, password), { accepted: true }, "the ticket's password opens the console");
    t.false((await rfbAuthenticate(displayAddress, port, password.split('').reverse().join(''))).accepted, 'another password does not');
    t.regex(await daemon.virsh('dumpxml', '--security-info', vmId), new RegExp(`passwd='${password}' passwdValidTo='`), 'the running domain has the ticket');
    t.notRegex(await daemon.virsh('dumpxml', '--inactive', '--security-info', vmId), new RegExp(password), 'the persistent definition keeps its own password');
    await eventually(async () => !(await rfbAuthenticate(displayAddress, port, password)).accepted, 'the ticket to expire', 15_000);
    t.true(Date.now() - issuedAt >= 2000, 'the ticket was valid until its expiry, not shorter');

    const defaulted = await api.post(`${consoles}/${vncId}/ticket`, undefined, { accept: 'json' });
    t.is(defaulted.status, 200, defaulted.text);
    t.is(defaulted.body.ticket.expiry, '120', 'a ticket is valid for 120 seconds unless the request says otherwise');
    t.true((await rfbAuthenticate(displayAddress, port, defaulted.body.ticket.value)).accepted);

    const file = await api.post(`${consoles}/${vncId}/remoteviewerconnectionfile`, '<action/>', { accept: 'json' });
    t.is(file.status, 200, file.text);
    const text = file.body.remote_viewer_connection_file as string;
    const settings = new Map(text.split('\n').flatMap((line) => (/^[a-z-]+=/.test(line) ? [line.split(/=(.*)/s, 2) as [string, string]] : [])));
    t.true(text.startsWith('[virt-viewer]\n'), text);
    t.is(settings.get('type'), 'vnc');
    t.is(settings.get('host'), displayAddress);
    t.is(settings.get('port'), String(port));
    t.is(settings.get('delete-this-file'), '1');
    t.regex(text, /# Password is valid for 120 seconds\./);
    t.true((await rfbAuthenticate(displayAddress, port, settings.get('password')!)).accepted, "the file's password opens the console");
    t.false((await rfbAuthenticate(displayAddress, port, defaulted.body.ticket.value)).accepted, "a new ticket replaces the last one's password");

    await expectFault(t, await api.get(`${consoles}/${spiceId}`), 404, /graphics console 7370696365 does not exist/, 'the SPICE console of a VNC VM');
    await expectFault(t, await api.post(`${consoles}/abc/ticket`, '<action/>'), 404, /graphics console abc does not exist/, 'an unknown console id');
    for (const expiry of ['0', '-5', '86401', 'soon', '1.5']) {
      await expectFault(t, await api.post(`${consoles}/${vncId}/ticket`, `<action><ticket><expiry>${expiry}</expiry></ticket></action>`), 400, /action\.ticket\.expiry/, `expiry ${expiry}`);
    }
    await expectFault(t, await api.post(`${consoles}/${vncId}/ticket`, '<action><ticket><value>secret</value></ticket></action>'), 400, /action\.ticket\.value/, 'a ticket value the client chose');
    await expectFault(t, await api.get(`${consoles}?populate_remote_viewer_connection_file=true`), 400, /populate_remote_viewer_connection_file/, 'populating the connection file');
    await expectFault(t, await api.get(`/vms/00000000-0000-0000-0000-00000000beef/graphicsconsoles`), 404, /VM .* does not exist/, 'the consoles of an unknown VM');

    const stoppedAgain = await api.action(vmId, 'stop');
    t.is(stoppedAgain.status, 200, stoppedAgain.text);
    await expectFault(t, await api.post(`${consoles}/${vncId}/ticket`, '<action/>'), 409, /not running/, 'a ticket once the VM stopped');
    const after = await api.get(`${consoles}/${vncId}?current=true`, { accept: 'json' });
    t.is(after.body.port, undefined, 'a stopped console has no port');

    const spiceVm = await api.createVm('qemu-spice', 128, '<display><type>spice</type></display>');
    const spiceConsoles = `/vms/${spiceVm}/graphicsconsoles`;
    const spiceStarted = await api.action(spiceVm, 'start');
    t.is(spiceStarted.status, 200, spiceStarted.text);
    const spice = await api.get(`${spiceConsoles}/${spiceId}?current=true`, { accept: 'json' });
    t.is(spice.status, 200, spice.text);
    t.like(spice.body, { protocol: 'spice', address: displayAddress });
    const spicePort = Number(spice.body.port);
    t.true(await connectionRefused('127.0.0.1', spicePort), 'nothing listens on the SPICE port at another address');
    t.false((await spiceAuthenticate(displayAddress, spicePort, '')).accepted, 'without a ticket SPICE refuses an empty password');
    const spiceFile = await api.post(`${spiceConsoles}/${spiceId}/remoteviewerconnectionfile`, undefined, { accept: 'json' });
    t.is(spiceFile.status, 200, spiceFile.text);
    const spiceText = spiceFile.body.remote_viewer_connection_file as string;
    t.regex(spiceText, new RegExp(`^type=spice\nhost=${displayAddress.replaceAll('.', '\\.')}\nport=${spicePort}\n`, 'm'));
    const spicePassword = /^password=([A-Za-z0-9]{16})$/m.exec(spiceText)?.[1];
    t.truthy(spicePassword, `a SPICE ticket has 16 characters: ${spiceText}`);
    t.deepEqual(await spiceAuthenticate(displayAddress, spicePort, spicePassword!), { accepted: true }, "the file's password opens the SPICE console");
    t.false((await spiceAuthenticate(displayAddress, spicePort, 'guessed')).accepted, 'another password does not');

    const changed = await api.put(`/vms/${spiceVm}`, '<vm><display><type>vnc</type></display></vm>');
    t.is(changed.status, 200, changed.text);
    await expectFault(t, await api.post(`${spiceConsoles}/${vncId}/ticket`, '<action/>'), 409, /the running console of domain .* is spice, not vnc/, 'a ticket for the display the running VM gets at its next start');
  });
}
