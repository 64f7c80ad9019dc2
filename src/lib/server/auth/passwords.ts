/**
 * Passwords: Argon2id at the OWASP Password Storage Cheat Sheet's first recommended setting
 * (m = 19 MiB, t = 2, p = 1; ~10-20 ms per hash here), and a policy check run wherever a
 * password is set.
 *
 * The common-password list is @zxcvbn-ts/language-common's `passwords-common` (~49k entries
 * drawn from breach corpora, maintained with zxcvbn-ts). NIST SP 800-63B §5.1.1.2 asks to
 * refuse passwords found in such lists; composition rules (digits, symbols) it advises against,
 * so there are none here beyond the minimum length.
 */
import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

export const ARGON2_OPTIONS = {
	/** Algorithm.Argon2id (a const enum, which isolated modules cannot import). */
	algorithm: 2,
	memoryCost: 19_456,
	timeCost: 2,
	parallelism: 1
} as const;

export const MIN_PASSWORD_LENGTH = 12;
/** Argon2 accepts more, but nobody types more; a bound keeps a login request cheap. */
export const MAX_PASSWORD_LENGTH = 256;

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
	common ??= new Set(
		(dictionary['passwords-common'] as readonly string[]).map((p) => p.toLowerCase())
	);
	return common;
}

export async function hashPassword(password: string): Promise<string> {
	return hash(password, ARGON2_OPTIONS);
}

/** Constant-time comparison inside argon2; false (never a throw) for a malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
	if (password.length > MAX_PASSWORD_LENGTH) return false;
	try {
		return await verify(passwordHash, password);
	} catch {
		// A hash that is not a PHC string cannot match anything; treat as a wrong password.
		return false;
	}
}

/**
 * A hash to verify against when the user does not exist, so an unknown username costs the
 * same time as a wrong password (no user enumeration by timing).
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
	dummyHash ??= hashPassword('tracewall-timing-equaliser-not-a-password');
	return dummyHash;
}

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'contains-username';

export const PASSWORD_PROBLEM_TEXT: Record<PasswordProblem, string> = {
	'too-short': `Use at least ${MIN_PASSWORD_LENGTH} characters.`,
	'too-long': `Use at most ${MAX_PASSWORD_LENGTH} characters.`,
	common: 'This password appears in lists of breached or common passwords. Choose another.',
	'contains-username': 'The password must not contain your username.'
};

/**
 * Problems with a new password, empty when acceptable. Besides the exact list entry, the
 * password with trailing digits and symbols stripped is checked too, because "Password2026!"
 * is the list's "password" with a predictable suffix.
 */
export function checkPassword(password: string, username = ''): PasswordProblem[] {
	const problems: PasswordProblem[] = [];
	if ([...password].length < MIN_PASSWORD_LENGTH) problems.push('too-short');
	if (password.length > MAX_PASSWORD_LENGTH) problems.push('too-long');
	const lower = password.toLowerCase();
	const stem = lower.replace(/[\d\W_]+$/u, '');
	const list = commonPasswords();
	if (list.has(lower) || (stem.length >= 6 && list.has(stem))) problems.push('common');
	if (username.length >= 3 && lower.includes(username.toLowerCase())) {
		problems.push('contains-username');
	}
	return problems;
}
