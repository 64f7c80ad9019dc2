/**
 * `config:get` (/ingest): the current characteristic configuration and active limits. Also
 * pushed as `config:update` on connect and on every change; this is for a worker that wants to
 * be sure (e.g. after applying a push failed).
 */
import type { IngestConfig } from '$lib/realtime/events';
import { failure, replier, type HubContext } from '../context';
import { emptyPayloadSchema } from '../schemas';

export function handleConfigGet(ctx: HubContext, payload: unknown, ack: unknown): void {
	const reply = replier<IngestConfig>(ack);
	if (!reply) return;
	if (!emptyPayloadSchema.safeParse(payload).success) {
		reply(failure('bad_request', 'config:get takes no payload'));
		return;
	}
	reply({ ok: true, data: ctx.config.current() });
}
