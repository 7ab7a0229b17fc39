import test from 'ava';
import { connectAddress, consoleIds, remoteViewerFile } from '../../../controller/rules/consoles.js';

test("console ids are the hex of their protocol's name, as oVirt makes them", (t) => {
  for (const [protocol, id] of Object.entries(consoleIds)) t.is(Buffer.from(protocol).toString('hex'), id);
});

test("a console listening on every interface is reached at its host's address; one on an address, there", (t) => {
  const console = { protocol: 'vnc' as const, port: 5900, tlsPort: 0 };
  for (const wildcard of ['0.0.0.0', '::', '']) t.is(connectAddress({ ...console, address: wildcard }, 'host1.example'), 'host1.example');
  t.is(connectAddress({ ...console, address: '192.0.2.10' }, 'host1.example'), '192.0.2.10');
});

test('a remote-viewer file names the console, its password and how long it is valid, has remote-viewer delete it, and gives a TLS port only where there is one', (t) => {
  const vnc = remoteViewerFile({ vmName: 'web-1', console: { protocol: 'vnc', address: '192.0.2.10', port: 5901, tlsPort: 0 }, password: 'Ab3dEf7h', validSeconds: 120 });
  t.is(
    vnc,
    [
      '[virt-viewer]',
      'type=vnc',
      'host=192.0.2.10',
      'port=5901',
      'password=Ab3dEf7h',
      '# Password is valid for 120 seconds.',
      'delete-this-file=1',
      'fullscreen=0',
      'title=web-1:%d - Press SHIFT+F12 to Release Cursor',
      'toggle-fullscreen=shift+f11',
      'release-cursor=shift+f12',
      'secure-attention=ctrl+alt+end',
      '',
    ].join('\n'),
  );
  const spice = remoteViewerFile({ vmName: 'web-2', console: { protocol: 'spice', address: 'fd00::1', port: 0, tlsPort: 5902 }, password: 'x', validSeconds: 30 });
  t.regex(spice, /^type=spice\nhost=fd00::1\nport=-1\ntls-port=5902\npassword=x\n/m);
});
