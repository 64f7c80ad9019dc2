/**
 * The JSON API's one way of answering a production action, so every endpoint refuses alike:
 * 401 `unauthorized` for nobody, 403 `forbidden` for a device or a person without the
 * permission (asked before the body is read, so a refusal reveals nothing about records), 400
 * `invalid` for a body the zod schema rejects, then whatever the service decides — its closed
 * error code and sentence. Every refusal is counted in /metrics by action and reason; page form
 * actions count theirs through `countRefusal` too.
 */
import { json, type RequestEvent } from '@sveltejs/kit';
import type { z } from 'zod';
import type { Permission } from '$lib/auth/roles';
import type { Metrics } from '../metrics';
import { can } from '../auth/policy';
import type { App } from '../app';
import type { Person } from './access';
import { httpStatus, ProductionError, type ProductionErrorCode } from './errors';

export type ProductionAction =
	| 'run-start'
	| 'run-end'
	| 'inspection-result'
	| 'inspection-confirm'
	| 'lot-complete'
	| 'lot-plan'
	| 'lot-quantities'
	| 'lot-review'
	| 'lot-release'
	| 'lot-reject'
	| 'deviation-open'
	| 'material-receive'
	| 'material-decide'
	| 'certification-grant'
	| 'certification-revoke';

export function countRefusal(
	metrics: Metrics,
	action: ProductionAction,
	reason: ProductionErrorCode
): void {
	metrics.productionRefusals.inc({ action, reason });
}

function refusal(
	metrics: Metrics,
	action: ProductionAction,
	code: ProductionErrorCode,
	message: string,
	extra: Record<string, unknown> = {}
): Response {
	countRefusal(metrics, action, code);
	return json({ error: code, message, ...extra }, { status: httpStatus(code) });
}

/** Route params that must be a positive id; anything else is `not-found` (never a 500). */
export function idParam(value: string | undefined): number | null {
	return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : null;
}

export async function productionEndpoint<S extends z.ZodType>(
	event: Pick<RequestEvent, 'locals' | 'request'>,
	app: Pick<App, 'metrics'>,
	spec: {
		action: ProductionAction;
		permission: Permission;
		body: S;
		run: (person: Person, body: z.infer<S>) => Promise<unknown>;
		/** HTTP status of success (201 for creations). */
		status?: number;
	}
): Promise<Response> {
	const { metrics } = app;
	const principal = event.locals.principal;
	if (principal.kind === 'anonymous') {
		return refusal(metrics, spec.action, 'unauthorized', 'Sign in first.');
	}
	if (principal.kind !== 'user' || !can(principal, spec.permission)) {
		return refusal(metrics, spec.action, 'forbidden', 'You do not have permission for this.');
	}
	let raw: unknown;
	try {
		raw = await event.request.json();
	} catch {
		return refusal(metrics, spec.action, 'invalid', 'Send a JSON body.');
	}
	const parsed = spec.body.safeParse(raw);
	if (!parsed.success) {
		return refusal(metrics, spec.action, 'invalid', 'The request body is not valid.', {
			issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
		});
	}
	try {
		const result = await spec.run(principal, parsed.data);
		return json({ ok: true, ...(result ?? {}) }, { status: spec.status ?? 200 });
	} catch (e) {
		if (e instanceof ProductionError) {
			return refusal(
				metrics,
				spec.action,
				e.code,
				e.message,
				Object.keys(e.details).length ? { details: e.details } : {}
			);
		}
		throw e;
	}
}
