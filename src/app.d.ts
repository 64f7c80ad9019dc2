// See https://svelte.dev/docs/kit/types#app.d.ts
import type { Principal } from '$lib/server/auth/policy';
import type { SessionInfo } from '$lib/server/auth/sessions';

declare global {
	namespace App {
		interface Error {
			message: string;
		}
		interface Locals {
			/** Who is asking: resolved once per request in hooks.server.ts. */
			principal: Principal;
			/** The user session behind `principal`, when it is a user. */
			session: SessionInfo | null;
		}
		// interface PageData {}
		// interface PageState {}
		// interface Platform {}
	}
}

export {};
