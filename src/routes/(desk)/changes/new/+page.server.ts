/**
 * A new change request, prefilled from `?characteristic=` (its current limits, spec, rule set and
 * sampling plan as starting values) and `?kind=`. Needs change:author; the service checks again.
 */
import { error, fail, redirect } from '@sveltejs/kit';
import { asc, eq } from 'drizzle-orm';
import { runningApp as app } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import { ChangeError, createChange } from '$lib/server/change/service';
import { characteristic, controlLimitVersion, line, machine, product } from '$lib/server/db/schema';
import { activeLimitVersionId } from '$lib/server/records/limit-versions';
import { CHANGE_KINDS, type ChangeKind } from '$lib/change/workflow';
import type { Actions, PageServerLoad } from './$types';
import { changeForm, fieldErrors, proposalOf } from '../schema';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'change:author');
	const { database } = app();
	const [characteristics, products] = await Promise.all([
		database.db
			.select({
				id: characteristic.id,
				code: characteristic.code,
				name: characteristic.name,
				unit: characteristic.unit,
				chart: characteristic.chart,
				lineId: machine.lineId,
				lineCode: line.code,
				rules: characteristic.rules,
				subgroupSize: characteristic.subgroupSize,
				samplingIntervalMs: characteristic.samplingIntervalMs,
				lsl: characteristic.specLsl,
				target: characteristic.specTarget,
				usl: characteristic.specUsl
			})
			.from(characteristic)
			.innerJoin(machine, eq(machine.id, characteristic.machineId))
			.innerJoin(line, eq(line.id, machine.lineId))
			.orderBy(asc(line.code), asc(characteristic.code)),
		database.db
			.select({ id: product.id, code: product.code, name: product.name, lineId: product.lineId })
			.from(product)
			.orderBy(asc(product.code))
	]);
	const wanted = Number(event.url.searchParams.get('characteristic'));
	const chosen = characteristics.find((c) => c.id === wanted) ?? null;
	let limits: { centre: number; sigma: number } | null = null;
	if (chosen) {
		const activeId = await activeLimitVersionId(database, chosen.id);
		if (activeId) {
			const [v] = await database.db
				.select({ centre: controlLimitVersion.centre, sigma: controlLimitVersion.sigma })
				.from(controlLimitVersion)
				.where(eq(controlLimitVersion.id, activeId));
			limits = v ?? null;
		}
	}
	// The spec in force of each product (its effective process version now): a spec change
	// starts from it, not from the characteristic's plant default.
	const specRows = await database.query<{
		product_id: number;
		version: number;
		characteristic_id: number;
		lsl: number | null;
		target: number | null;
		usl: number | null;
	}>(
		`WITH current AS (
		   SELECT DISTINCT ON (product_id) id, product_id, version FROM process_version
		   WHERE status = 'effective' AND (effective_from IS NULL OR effective_from <= now())
		   ORDER BY product_id, effective_from DESC NULLS LAST, version DESC
		 )
		 SELECT cur.product_id, cur.version, ps.characteristic_id, ps.lsl, ps.target, ps.usl
		 FROM current cur JOIN process_spec ps ON ps.process_version_id = cur.id`
	);
	const productSpecs: Record<
		string,
		{
			version: number;
			specs: Record<string, { lsl: number | null; target: number | null; usl: number | null }>;
		}
	> = {};
	for (const r of specRows) {
		const entry = (productSpecs[r.product_id] ??= { version: r.version, specs: {} });
		entry.specs[r.characteristic_id] = { lsl: r.lsl, target: r.target, usl: r.usl };
	}
	const kindParam = event.url.searchParams.get('kind');
	const kind: ChangeKind = (CHANGE_KINDS as readonly string[]).includes(kindParam ?? '')
		? (kindParam as ChangeKind)
		: 'control-limit';
	return {
		characteristics: characteristics.map((c) => ({
			...c,
			rules: typeof c.rules === 'string' ? c.rules : 'custom'
		})),
		products,
		productSpecs,
		prefill: { kind, characteristicId: chosen?.id ?? null, limits }
	};
};

export const actions: Actions = {
	create: async (event) => {
		const user = requireUserWith(event, 'change:author');
		const running = app();
		const values = Object.fromEntries(await event.request.formData()) as Record<string, string>;
		const parsed = changeForm.safeParse(values);
		if (!parsed.success) {
			const errors = fieldErrors(parsed.error);
			return fail(400, { values, message: Object.values(errors)[0], errors });
		}
		const proposal = proposalOf(parsed.data.kind, values);
		if (!proposal.ok) {
			return fail(400, {
				values,
				message: proposal.message,
				errors: { [proposal.field]: proposal.message }
			});
		}
		let id: number;
		try {
			({ id } = await createChange({ database: running.database, metrics: running.metrics }, user, {
				...parsed.data,
				proposal: proposal.proposal
			}));
		} catch (e) {
			if (e instanceof ChangeError) {
				if (e.code === 'forbidden') error(403, e.message);
				return fail(400, {
					values,
					message: e.message,
					errors: e.field ? { [e.field]: e.message } : {}
				});
			}
			throw e;
		}
		redirect(303, `/changes/${id}`);
	}
};
