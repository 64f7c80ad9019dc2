/**
 * Access changes that live connections must follow within seconds: ended sessions, disabled
 * users, revoked devices and workers. The hub listens and disconnects the affected sockets.
 *
 * In-process only for now: with several hub nodes (DESIGN §2 scale-out) these events must
 * also travel through the socket.io Redis adapter (`serverSideEmit`); the hub is the only
 * listener, so that change stays in one place.
 */
import { EventEmitter } from 'node:events';

export type AuthEvent =
	| { kind: 'sessions-ended'; sessionIds: string[]; reason: string }
	| { kind: 'device-revoked'; deviceId: number }
	| { kind: 'worker-revoked'; workerId: number };

const HOLDER = Symbol.for('tracewall.auth-events');
type Holder = typeof globalThis & { [HOLDER]?: EventEmitter };

// One emitter per process, although in dev the Vite config and the SSR code load separate
// copies of this module (STACK.md pitfall 4).
const emitter: EventEmitter = ((globalThis as Holder)[HOLDER] ??= new EventEmitter());
emitter.setMaxListeners(50);

export const authEvents = {
	emit(event: AuthEvent): void {
		emitter.emit('auth', event);
	},
	/** Returns the unsubscribe function. */
	on(listener: (event: AuthEvent) => void): () => void {
		emitter.on('auth', listener);
		return () => emitter.off('auth', listener);
	}
};
