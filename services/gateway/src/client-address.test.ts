import { describe, expect, it } from 'vitest';
import { addressKey, ClientAddresses, grpcPeerAddress } from './client-address.js';

describe('ClientAddresses', () => {
  it('ignores X-Forwarded-For unless the connection comes from a trusted proxy', () => {
    const none = new ClientAddresses([]);
    expect(none.resolve('::ffff:192.0.2.1', '203.0.113.5')).toBe('192.0.2.1');
    const proxied = new ClientAddresses(['10.0.0.0/8', '2001:db8::1']);
    expect(proxied.resolve('192.0.2.1', '203.0.113.5')).toBe('192.0.2.1');
    // From the right, past trusted hops; what the client wrote on the left is not believed.
    expect(proxied.resolve('10.1.2.3', '1.1.1.1, 203.0.113.5, 10.9.9.9')).toBe('203.0.113.5');
    expect(proxied.resolve('2001:db8::1', '203.0.113.5')).toBe('203.0.113.5');
    // Garbage in the header leaves the proxy as the client, not the garbage.
    expect(proxied.resolve('10.1.2.3', 'not-an-address')).toBe('10.1.2.3');
  });

  it('reads grpc-js peers and keys IPv6 clients by their /64', () => {
    expect(grpcPeerAddress('127.0.0.2:5000')).toBe('127.0.0.2');
    expect(grpcPeerAddress('ipv4:127.0.0.2:5000')).toBe('127.0.0.2');
    expect(grpcPeerAddress('[::1]:5000')).toBe('::1');
    expect(addressKey('2001:db8:1:2::5')).toBe(addressKey('2001:db8:1:2:ffff::9'));
    expect(addressKey('2001:db8:1:2::5')).not.toBe(addressKey('2001:db8:1:3::5'));
    expect(addressKey('192.0.2.1')).not.toContain('192');
  });
});
