/**
 * Security alerts for administrators: locked accounts and throttled addresses. Acknowledging
 * records who looked at it; unlocking an account is done on the user's page (audited there).
 */
import { fail } from '@sveltejs/kit';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { runningApp as app } from '$lib/server/running-app';
import { appendAudit } from '$lib/server/audit/append';
import { requireUserWith } from '$lib/server/auth/guard';
import { appUser, securityAlert } from '$lib/server/db/schema';
import type { Actions, PageServerLoad } from './$types';

const ackForm = z.object({ id: z.coerce.number().int().positive() });

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'security:view');
	const { database } = app();
	const rows = await database.db
		.select({
			id: securityAlert.id,
			at: securityAlert.at,
			kind: securityAlert.kind,
			ip: securityAlert.ip,
			detail: securityAlert.detail,
			acknowledgedAt: securityAlert.acknowledgedAt,
			userId: securityAlert.userId,
			username: appUser.username
		})
		.from(securityAlert)
		.leftJoin(appUser, eq(appUser.id, securityAlert.userId))
		.orderBy(desc(securityAlert.id))
		.limit(200);
	return {
		alerts: rows.map((r) => ({
			...r,
			at: r.at.toISOString(),
			acknowledgedAt: r.acknowledgedAt?.toISOString() ?? null
		}))
	};
};

export const actions: Actions = {
	acknowledge: async (event) => {
		const admin = requireUserWith(event, 'security:view');
		const { database } = app();
		const parsed = ackForm.safeParse({ id: (await event.request.formData()).get('id') });
		if (!parsed.success) return fail(400, { error: 'Unknown alert.' });
		const done = await database.transaction(async (tx) => {
			const updated = await tx.db
				.update(securityAlert)
				.set({ acknowledgedAt: new Date(), acknowledgedBy: admin.userId })
				.where(and(eq(securityAlert.id, parsed.data.id), isNull(securityAlert.acknowledgedAt)))
				.returning({ id: securityAlert.id });
			if (updated.length === 0) return false;
			await appendAudit(tx, {
				actor: { userId: admin.userId, label: admin.username },
				action: 'state',
				entityType: 'security-alert',
				entityId: parsed.data.id,
				oldValues: { acknowledged: false },
				newValues: { acknowledged: true }
			});
			return true;
		});
		if (!done) return fail(400, { error: 'Unknown or already acknowledged alert.' });
		return { done: true };
	}
};
