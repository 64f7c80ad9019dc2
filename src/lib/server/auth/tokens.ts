/**
 * Secrets handed to browsers, screens and people: session tokens, device tokens, pairing codes
 * and one-time password codes. Only their SHA-256 is ever stored. They are long random strings
 * (or short-lived and attempt-limited codes), so a plain hash is the right tool: a slow KDF is
 * for low-entropy secrets (passwords), and lookups by hash stay O(1).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { sha256Hex } from '../audit/chain';

export { sha256Hex };

/** 160 random bits, base32 (32 characters): session and device tokens. */
export function generateToken(): string {
	return encodeBase32LowerCaseNoPadding(randomBytes(20));
}

/** Letters and digits that cannot be mistaken for each other on a TV or a phone. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A short human-typed code, e.g. `K7QM-3XPA` (8 symbols ≈ 39 bits; always short-lived). */
export function generateCode(groups = 2, groupLength = 4): string {
	const parts: string[] = [];
	for (let g = 0; g < groups; g++) {
		let part = '';
		for (let i = 0; i < groupLength; i++) part += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
		parts.push(part);
	}
	return parts.join('-');
}

/** Normalises a typed code (case, spaces, dashes) before hashing, so `k7qm 3xpa` works. */
export function normaliseCode(typed: string): string {
	return typed.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export function hashCode(typed: string): string {
	return sha256Hex(normaliseCode(typed));
}
