import { describe, expect, it } from 'vitest';
import { addressing, formatMac, NetSpecError, parseNetSpec, UserNetError } from '../src/index.js';
import { formatIpv4 } from '@uk/net';

function error(spec: string): NetSpecError {
  try {
    parseNetSpec(spec);
  } catch (e) {
    if (e instanceof NetSpecError) return e;
    throw e;
  }
  throw new Error(`${spec} was accepted`);
}

describe('--net user specs', () => {
  it('reads QEMU hostfwd rules, several of them, with the defaults QEMU has (and 127.0.0.1)', () => {
    const s = parseNetSpec('user,hostfwd=tcp::8080-:80,hostfwd=udp:0.0.0.0:5353-10.0.2.15:53,hostfwd=::2222-:22,mac=52:54:00:aa:bb:cc');
    expect(s.link.kind).toBe('user');
    if (s.link.kind !== 'user') return;
    expect(s.link.options.hostForwards).toEqual([
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestAddress: undefined, guestPort: 80 },
      { protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestAddress: '10.0.2.15', guestPort: 53 },
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestAddress: undefined, guestPort: 22 },
    ]);
    expect(formatMac(s.mac as Uint8Array)).toBe('52:54:00:aa:bb:cc');
  });

  it('is the backend when none is named', () => {
    expect(parseNetSpec('hostfwd=tcp::8080-:80').link.kind).toBe('user');
    expect(parseNetSpec('mac=52:54:00:00:00:01').link.kind).toBe('user');
    expect(parseNetSpec('user').link).toEqual({ kind: 'user', options: {} });
  });

  it('takes the network options and checks they fit together', () => {
    const s = parseNetSpec('user,net=192.168.76.0/24,host=192.168.76.1,dns=192.168.76.53,dhcpstart=192.168.76.100,restrict=on');
    if (s.link.kind !== 'user') throw new Error('not user');
    const a = addressing(s.link.options);
    expect([a.gateway, a.dns, a.dhcpStart, a.network].map(formatIpv4)).toEqual(['192.168.76.1', '192.168.76.53', '192.168.76.100', '192.168.76.0']);
    expect(s.link.options.restrict).toBe(true);
    expect(() => addressing({ network: '10.0.2.0/24', host: '10.0.3.2' })).toThrow(UserNetError);
    expect(() => addressing({ dns: '10.0.2.2' })).toThrow(/different/);
    expect(() => addressing({ dhcpStart: '10.0.2.1' })).toThrow(/holds 10\.0\.2\.2/);
  });

  it('says what to write instead', () => {
    expect(error('user,hostfwd=tcp:8080:80').message).toMatch(/write \[tcp\|udp\]:\[HOSTADDR\]:HOSTPORT-\[GUESTADDR\]:GUESTPORT/);
    expect(error('user,hostfwd=tcp::8080-:0').message).toMatch(/guest port 0 must be 1 to 65535/);
    expect(error('user,hostfwd=tcp:example.com:8080-:80').message).toMatch(/not an IPv4 address/);
    expect(error('user,hostfwd=tcp::8080-:80,hostfwd=tcp::8080-:81').message).toMatch(/forwarded twice/);
    expect(error('user,net=10.0.2.0/33').message).toMatch(/net=10\.0\.2\.0\/33 is not a network/);
    expect(error('user,restrict=maybe').message).toMatch(/restrict=on or restrict=off/);
    expect(error('user,udp=127.0.0.1:5555').message).toMatch(/two backends \(user and udp\)/);
    expect(error('user,dns=1.2.3').message).toMatch(/dns=1\.2\.3 is not an IPv4 address/);
    expect(error('user,loss=5%').message).toMatch(/loss= goes with switch, not with user/);
    expect(error('user,host=10.0.3.2').message).toMatch(/host 10\.0\.3\.2 is not a host address of 10\.0\.2\.0\/24/);
  });
});
