/** The pure parts of signing in: where to go next, trusted networks, password age. */
import { describe, expect, it } from 'vitest';
import { inNetworks, passwordExpired, safeNext } from './login';

describe('after signing in', () => {
	it.each([
		['/wall/L1', '/wall/L1'],
		['/audit?user=qe', '/audit?user=qe'],
		['/records/7#signatures', '/records/7#signatures'],
		['/a/../audit', '/audit'],
		['//evil.example/x', '/'],
		['/\\evil.example', '/'],
		['/\t/evil.example', '/'],
		['/\n/evil.example', '/'],
		['/%09/evil.example', '/%09/evil.example'],
		['javascript:alert(1)', '/'],
		['/login\r\nSet-Cookie: x=1', '/'],
		['https://evil.example/', '/'],
		['', '/'],
		[null, '/']
	])('goes to %s → %s', (next, expected) => {
		expect(safeNext(next)).toBe(expected);
	});

	it.each([
		['10.2.3.4', true],
		['::ffff:10.2.3.4', true],
		['127.0.0.1', true],
		['203.0.113.9', false],
		['2001:db8::1', false],
		[null, false]
	])('treats %s as inside the trusted networks: %s', (ip, inside) => {
		expect(inNetworks(ip, ['10.0.0.0/8', '127.0.0.0/8', 'fc00::/7'])).toBe(inside);
	});

	it('expires passwords only when a maximum age is configured', () => {
		const now = new Date('2026-11-22T00:00:00Z');
		const old = new Date('2026-01-01T00:00:00Z');
		expect(passwordExpired(old, 0, now)).toBe(false);
		expect(passwordExpired(old, 90, now)).toBe(true);
		expect(passwordExpired(new Date('2026-11-01T00:00:00Z'), 90, now)).toBe(false);
	});
});
