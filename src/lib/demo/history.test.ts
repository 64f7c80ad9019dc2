import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALARM_CODES } from '../server/alarms/codes';
import { PROPOSAL_SCHEMAS } from '../server/change/proposal';
import {
	apportion,
	CERT_EXCEPTIONS,
	DAY_MS,
	generateDemoHistory,
	HISTOGRAM_BINS,
	MACHINE_OPERATIONS,
	type DemoHistory,
	type HistoryCertification
} from './history';
import { primaryLimits } from '../spc/points';
import { DEMO_PLANT } from './plant';

const NOW = Date.parse('2026-12-04T20:00:00.000Z');
// Generating a year takes a few seconds on a loaded machine.
const SLOW = 30_000;

let h: DemoHistory;
beforeAll(() => {
	h = generateDemoHistory({ now: NOW, seed: 7 });
}, SLOW);

function currentAt(c: HistoryCertification, at: number): boolean {
	return c.validFrom <= at && c.validTo > at && (c.revokedAt === null || c.revokedAt > at);
}

describe('demo history: determinism', () => {
	it(
		'gives the same history for the same now and seed, and another for another seed',
		() => {
			const again = generateDemoHistory({ now: NOW, seed: 7 });
			expect(JSON.stringify(again)).toBe(JSON.stringify(h));
			const other = generateDemoHistory({ now: NOW, seed: 8 });
			expect(other.lots.map((l) => l.plannedQty)).not.toEqual(h.lots.map((l) => l.plannedQty));
		},
		SLOW
	);

	it('apportion spreads a total exactly over the weights', () => {
		expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
		expect(apportion(7, [0, 0])).toEqual([7, 0]);
		const parts = apportion(1001, [0.3, 0.2, 0.5]);
		expect(parts.reduce((a, b) => a + b, 0)).toBe(1001);
	});
});

describe('demo history: lots and quantities', () => {
	it('holds thousands of lots over a year, almost all released', () => {
		expect(h.lots.length).toBeGreaterThan(2000);
		const released = h.lots.filter((l) => l.status === 'released').length;
		expect(released / h.lots.length).toBeGreaterThan(0.95);
		expect(h.lots.some((l) => l.status === 'rejected')).toBe(true);
		expect(h.lots.some((l) => l.status === 'in_review')).toBe(true);
		expect(Math.min(...h.lots.map((l) => l.startedAt ?? NOW))).toBeGreaterThanOrEqual(h.from);
		expect(new Set(h.lots.map((l) => l.code)).size).toBe(h.lots.length);
	});

	it('makes about the planned quantity, split into good, scrap and rework', () => {
		for (const lot of h.lots) {
			if (lot.completedAt === null) continue;
			const made = lot.goodQty + lot.scrapQty + lot.reworkQty;
			expect(made / lot.plannedQty).toBeGreaterThan(0.96);
			expect(made / lot.plannedQty).toBeLessThan(1.03);
			expect(lot.scrapQty / made).toBeLessThan(0.03);
		}
	});

	it('shares the parts made among the runs (moulding) or passes them through every station (assembly)', () => {
		const byLot = new Map<number, number[]>();
		h.runs.forEach((r) => byLot.set(r.lot, [...(byLot.get(r.lot) ?? []), r.parts]));
		h.lots.forEach((lot, i) => {
			const parts = byLot.get(i);
			if (!parts) return;
			const made = lot.goodQty + lot.scrapQty + lot.reworkQty;
			if (lot.line === 'L1') expect(parts.reduce((a, b) => a + b, 0)).toBe(made);
			else expect(new Set(parts)).toEqual(new Set([made]));
		});
	});

	it('ships only released lots, to the product customer, after release, never more than was good', () => {
		const shipped = new Map<number, number>();
		for (const s of h.shipments) {
			const lot = h.lots[s.lot];
			expect(lot.status).toBe('released');
			expect(s.customer).toBe(h.products.find((p) => p.code === lot.product)?.customer);
			expect(s.shippedAt).toBeGreaterThan(lot.decidedAt as number);
			expect(s.shippedAt).toBeLessThanOrEqual(NOW);
			shipped.set(s.lot, (shipped.get(s.lot) ?? 0) + s.quantity);
		}
		for (const [lot, qty] of shipped) expect(qty).toBeLessThanOrEqual(h.lots[lot].goodQty);
		expect(h.shipments.length).toBeGreaterThan(2000);
	});

	it('decides lots after review, which follows completion', () => {
		for (const lot of h.lots) {
			if (lot.decidedAt !== null) {
				expect(lot.reviewStartedAt as number).toBeGreaterThanOrEqual(lot.completedAt as number);
				expect(lot.decidedAt).toBeGreaterThan(lot.reviewStartedAt as number);
				expect(lot.decidedAt).toBeLessThanOrEqual(NOW);
			}
		}
	});
});

describe('demo history: runs', () => {
	it('keeps every run inside its lot interval, and runs of one machine never overlap', () => {
		const byMachine = new Map<string, [number, number][]>();
		for (const r of h.runs) {
			const lot = h.lots[r.lot];
			expect(r.startedAt).toBeGreaterThanOrEqual(lot.startedAt as number);
			if (lot.completedAt !== null) {
				expect(r.endedAt).not.toBeNull();
				expect(r.endedAt as number).toBeLessThanOrEqual(lot.completedAt);
				expect(r.endedAt as number).toBeGreaterThan(r.startedAt);
			} else {
				expect(r.endedAt).toBeNull();
			}
			expect(r.operation).toBe(MACHINE_OPERATIONS[r.machine]);
			byMachine.set(r.machine, [
				...(byMachine.get(r.machine) ?? []),
				[r.startedAt, r.endedAt ?? NOW]
			]);
		}
		for (const intervals of byMachine.values()) {
			intervals.sort((a, b) => a[0] - b[0]);
			for (let i = 1; i < intervals.length; i++) {
				expect(intervals[i][0]).toBeGreaterThanOrEqual(intervals[i - 1][1]);
			}
		}
	});

	it('leaves every line with a lot running now: open runs on every machine, begun before now', () => {
		for (const line of DEMO_PLANT.lines) {
			const running = h.lots
				.map((l, i) => ({ l, i }))
				.filter(({ l }) => l.line === line.code && l.status === 'running');
			expect(running).toHaveLength(1);
			const runs = h.runs.filter((r) => r.lot === running[0].i);
			expect(runs.map((r) => r.machine).sort()).toEqual(line.machines.map((m) => m.code).sort());
			for (const r of runs) {
				expect(r.endedAt).toBeNull();
				expect(r.startedAt).toBeLessThan(NOW);
				expect(r.certification).not.toBeNull();
				expect(currentAt(h.certifications[r.certification as number], NOW)).toBe(true);
			}
			expect(runs.some((r) => r.operator === 'operator')).toBe(true);
			expect(h.consumption.some((c) => c.lot === running[0].i)).toBe(true);
		}
	});

	it('has every operator certified for the operation and line at run start, but the one documented run', () => {
		const exceptions = h.runs.filter((r) => r.exception);
		expect(exceptions).toHaveLength(1);
		const [x] = exceptions;
		expect(x.operator).toBe(CERT_EXCEPTIONS.expired.username);
		expect(x.certification).toBeNull();
		expect(x.checks.certification.standing).toBe('expired');
		expect(h.deviations.some((d) => d.lot === x.lot && d.title.includes('lapsed'))).toBe(true);
		for (const r of h.runs) {
			if (r.exception) continue;
			const cert = h.certifications[r.certification as number];
			expect(cert.username).toBe(r.operator);
			expect(cert.operation).toBe(r.operation);
			expect(cert.line).toBe(h.lots[r.lot].line);
			expect(currentAt(cert, r.startedAt)).toBe(true);
		}
	});

	it('consumes only material lots validated before consumption, and enough of each was received', () => {
		const byCode = new Map(h.materialLots.map((m) => [m.code, m]));
		const used = new Map<string, number>();
		for (const c of h.consumption) {
			const ml = byCode.get(c.materialLot);
			expect(ml?.status).toBe('validated');
			expect(ml?.decidedAt as number).toBeLessThanOrEqual(c.consumedAt);
			expect(ml?.receivedAt as number).toBeLessThan(c.consumedAt);
			expect(h.runs[c.run].lot).toBe(c.lot);
			expect(c.consumedAt).toBe(h.runs[c.run].startedAt);
			used.set(c.materialLot, (used.get(c.materialLot) ?? 0) + c.quantity);
		}
		for (const [code, qty] of used) expect(byCode.get(code)?.quantity).toBeGreaterThanOrEqual(qty);
		const rejected = h.materialLots.filter((m) => m.status === 'rejected');
		expect(rejected).toHaveLength(1);
		expect(h.suppliers.find((s) => s.code === rejected[0].supplier)?.approved).toBe(false);
		expect(h.materialLots.filter((m) => m.status === 'quarantine').length).toBeGreaterThan(0);
		expect(
			h.materialLots.filter((m) => m.status === 'validated').every((m) => m.evidence && m.decidedBy)
		).toBe(true);
	});
});

describe('demo history: certifications', () => {
	it('has certifications expiring within 14 days, one expired and one revoked', () => {
		const latest = new Map<string, HistoryCertification>();
		for (const c of h.certifications) {
			const key = `${c.username}|${c.operation}|${c.line}`;
			const prev = latest.get(key);
			if (!prev || c.validTo > prev.validTo) latest.set(key, c);
		}
		const soon = [...latest.values()].filter(
			(c) => currentAt(c, NOW) && c.validTo < NOW + 14 * DAY_MS
		);
		expect(soon.map((c) => c.username).sort()).toEqual(
			CERT_EXCEPTIONS.expiringSoon.map((e) => e.username).sort()
		);
		const expired = [...latest.values()].filter((c) => c.validTo <= NOW && c.revokedAt === null);
		expect(expired.map((c) => c.username)).toEqual([CERT_EXCEPTIONS.expired.username]);
		const revoked = h.certifications.filter((c) => c.revokedAt !== null);
		expect(revoked.map((c) => c.username)).toEqual([CERT_EXCEPTIONS.revoked.username]);
		expect(revoked[0].revokeReason).toBeTruthy();
	});
});

describe('demo history: inspections, alarms, deviations', () => {
	it('misses a few inspections, each with an alarm and a deviation', () => {
		const missed = h.inspections.map((x, i) => ({ x, i })).filter(({ x }) => x.status === 'missed');
		expect(missed.length).toBeGreaterThan(0);
		expect(missed.length).toBeLessThan(30);
		for (const { x, i } of missed) {
			expect(x.deviation).not.toBeNull();
			expect(h.deviations[x.deviation as number].inspection).toBe(i);
			expect(h.alarms.some((a) => a.kind === 'inspection' && a.inspection === i)).toBe(true);
		}
	});

	it('records late inspections after their grace, and suspect results confirmed by a second person', () => {
		const late = h.inspections.filter((x) => x.kind === 'late');
		expect(late.length).toBeGreaterThan(0);
		for (const x of late) {
			const grace = h.inspectionPlans[x.plan].graceMinutes * 60_000;
			expect(x.doneAt as number).toBeGreaterThan(x.dueAt + grace);
		}
		const suspect = h.inspections.filter((x) => x.kind === 'suspect-confirmed');
		expect(suspect.length).toBeGreaterThan(0);
		for (const x of suspect) {
			expect(x.confirmedBy).not.toBe(x.doneBy);
			expect(x.confirmedAt as number).toBeGreaterThan(x.doneAt as number);
			expect(x.passed).toBe(false);
			expect(['rejected', 'in_review']).toContain(h.lots[x.lot].status);
		}
	});

	it('keeps historical alarms cleared, acknowledged with default codes by someone certified on the line', () => {
		const causes = new Set(
			DEFAULT_ALARM_CODES.filter((c) => c.list === 'cause').map((c) => c.code)
		);
		const actions = new Set(
			DEFAULT_ALARM_CODES.filter((c) => c.list === 'action').map((c) => c.code)
		);
		const keys = new Set<string>();
		expect(h.alarms.length).toBeGreaterThan(1000);
		for (const a of h.alarms) {
			expect(causes.has(a.causeCode)).toBe(true);
			expect(actions.has(a.actionCode)).toBe(true);
			expect(a.acknowledgedAt).toBeGreaterThanOrEqual(a.ts);
			expect(a.clearedAt).toBeGreaterThanOrEqual(Math.max(a.acknowledgedAt, a.returnedAt));
			expect(a.clearedAt).toBeLessThan(NOW);
			expect(
				h.certifications.some(
					(c) =>
						c.username === a.acknowledgedBy && c.line === a.line && currentAt(c, a.acknowledgedAt)
				)
			).toBe(true);
			const run = h.runs[a.run];
			expect(a.ts).toBeGreaterThanOrEqual(run.startedAt);
			if (a.kind === 'inspection') {
				// Raised when the grace ran out: a lot-end inspection's after the lot completed.
				const x = h.inspections[a.inspection as number];
				expect(a.ts).toBe(x.dueAt + h.inspectionPlans[x.plan].graceMinutes * 60_000);
			} else {
				expect(a.ts).toBeLessThanOrEqual(run.endedAt as number);
			}
			if (a.characteristic !== null) {
				const key = `${a.characteristic}|${a.rule}|${a.ts}`;
				expect(keys.has(key)).toBe(false);
				keys.add(key);
			}
		}
	});
});

describe('demo history: per-lot parameter summaries', () => {
	it('summarises every characteristic of every finished lot with a 20-bin histogram adding up to its count', () => {
		const finished = h.lots.filter((l) => l.completedAt !== null).length;
		const perLine = new Map(
			DEMO_PLANT.lines.map((l) => [l.code, l.machines.flatMap((m) => m.characteristics).length])
		);
		const expected = h.lots
			.filter((l) => l.completedAt !== null)
			.reduce((n, l) => n + (perLine.get(l.line) ?? 0), 0);
		expect(finished).toBeGreaterThan(0);
		expect(h.summaries.length).toBe(expected);
		// 70 000 rows: collect the bad ones rather than run seven expects on each.
		const bad = h.summaries.filter(
			(s) =>
				s.histogram.counts.length !== HISTOGRAM_BINS ||
				s.histogram.counts.reduce((a, b) => a + b, 0) !== s.count ||
				s.histogram.counts.some((c) => c < 0 || !Number.isInteger(c)) ||
				s.histogram.lo !== s.min ||
				s.histogram.hi !== s.max ||
				!(s.min < s.mean && s.mean < s.max) ||
				!(s.sd > 0)
		);
		expect(bad.slice(0, 3)).toEqual([]);
	});
});

describe('demo history: release times and plan', () => {
	const hours = () =>
		h.lots
			.filter((l) => l.status === 'released')
			.map((l) => ((l.decidedAt as number) - (l.completedAt as number)) / 3_600_000)
			.sort((a, b) => a - b);

	it('releases about a day and a half after completion, with a long tail of slow lots', () => {
		const xs = hours();
		const median = xs[Math.floor(xs.length / 2)];
		expect(median).toBeGreaterThan(24);
		expect(median).toBeLessThan(48);
		expect(xs[Math.floor(xs.length * 0.9)]).toBeLessThan(5 * 24);
		expect(xs.filter((x) => x > 4 * 24).length).toBeGreaterThan(20);
		expect(xs[0]).toBeGreaterThanOrEqual(5);
	});

	it('leaves the newest completed lots awaiting review, some already in review', () => {
		const waiting = h.lots.filter((l) => l.status === 'completed' || l.status === 'in_review');
		expect(waiting.filter((l) => l.status === 'completed').length).toBeGreaterThan(0);
		expect(waiting.filter((l) => l.status === 'in_review').length).toBeGreaterThan(0);
		for (const l of waiting) {
			expect(l.decidedAt).toBeNull();
			expect(l.reviewStartedAt === null).toBe(l.status === 'completed');
		}
	});

	it('starts most lots on plan, some hours late and a few a day late', () => {
		const slips = h.lots
			.filter((l) => l.startedAt !== null)
			.map((l) => ((l.startedAt as number) - l.plannedStart) / 3_600_000);
		const onPlan = slips.filter((s) => s <= 2).length / slips.length;
		expect(onPlan).toBeGreaterThan(0.8);
		expect(onPlan).toBeLessThan(0.95);
		expect(slips.filter((s) => s > 18).length).toBeGreaterThan(10);
		expect(slips.filter((s) => s < 0).length).toBeGreaterThan(10);
	});
});

describe('demo history: deviation workflow and CAPA', () => {
	const order = ['open', 'contained', 'investigated', 'actions', 'effectiveness', 'closed'];

	it('sets each step exactly when reached before now, in order, the status being the last', () => {
		for (const d of h.deviations) {
			const k = order.indexOf(d.status);
			expect(d.revision).toBe(k + 1);
			expect(d.containedAt !== null).toBe(k >= 1);
			expect(d.containment !== null && d.containedBy !== null).toBe(k >= 1);
			expect(d.rootCause !== null && d.investigatedAt !== null).toBe(k >= 2);
			expect(d.effectivenessDueAt !== null).toBe(k >= 4);
			expect(d.closedAt !== null && d.closedBy !== null).toBe(k === 5);
			if (k === 5) expect(d.effective).toBe(true);
			const times = [
				d.openedAt,
				d.containedAt,
				d.investigatedAt,
				d.effectivenessCheckedAt,
				d.closedAt
			].filter((t): t is number => t !== null);
			expect([...times].sort((a, b) => a - b)).toEqual(times);
			expect(times[times.length - 1]).toBeLessThanOrEqual(NOW);
			expect(d.dueAt).toBeGreaterThan(d.openedAt);
		}
	});

	it('keeps most closed and about a dozen open in several states, some overdue', () => {
		const open = h.deviations.filter((d) => d.status !== 'closed');
		expect(h.deviations.length).toBeGreaterThan(180);
		expect(open.length).toBeGreaterThanOrEqual(10);
		expect(open.length).toBeLessThanOrEqual(20);
		expect(new Set(open.map((d) => d.status)).size).toBeGreaterThanOrEqual(4);
		expect(open.filter((d) => d.dueAt < NOW).length).toBeGreaterThan(0);
		expect(new Set(h.deviations.map((d) => d.code)).size).toBe(h.deviations.length);
		expect(new Set(h.deviations.map((d) => d.severity))).toEqual(
			new Set(['minor', 'major', 'critical'])
		);
	});

	it('releases a lot only after every deviation on it closed', () => {
		for (const d of h.deviations) {
			if (d.lot === null) continue;
			const lot = h.lots[d.lot];
			if (lot.status !== 'released') continue;
			expect(d.closedAt).not.toBeNull();
			expect(d.closedAt as number).toBeLessThan(lot.decidedAt as number);
		}
	});

	it('gives 1-3 CAPA actions per deviation past investigation, done before the effectiveness check', () => {
		const byDeviation = new Map<number, typeof h.capas>();
		for (const c of h.capas)
			byDeviation.set(c.deviation, [...(byDeviation.get(c.deviation) ?? []), c]);
		h.deviations.forEach((d, i) => {
			const actions = byDeviation.get(i) ?? [];
			const past = ['actions', 'effectiveness', 'closed'].includes(d.status);
			if (!past) {
				expect(actions).toEqual([]);
				return;
			}
			expect(actions.length).toBeGreaterThanOrEqual(1);
			expect(actions.length).toBeLessThanOrEqual(3);
			expect(actions.some((a) => a.kind === 'corrective')).toBe(true);
			for (const a of actions) {
				expect(a.dueAt).toBeGreaterThan(a.createdAt);
				expect(a.status === 'open').toBe(a.doneAt === null);
				if (d.status !== 'actions') expect(a.status).not.toBe('open');
				if (a.doneAt !== null) expect(a.doneAt).toBeLessThanOrEqual(NOW);
			}
		});
		expect(new Set(h.capas.map((c) => c.code)).size).toBe(h.capas.length);
		expect(h.capas.filter((c) => c.status === 'open' && c.dueAt < NOW).length).toBeGreaterThan(0);
		expect(h.capas.some((c) => c.status === 'cancelled')).toBe(true);
	});
});

describe('demo history: change requests and KPI targets', () => {
	it('gives every change request still to be implemented a proposal the service accepts', () => {
		const pending = h.changeRequests.filter((c) =>
			['draft', 'impact', 'review', 'approved'].includes(c.status)
		);
		expect(pending.length).toBeGreaterThan(0);
		const refused = pending
			.map((c) => ({ c, r: PROPOSAL_SCHEMAS[c.kind].safeParse(c.proposal) }))
			.filter(({ r }) => !r.success);
		expect(refused.map(({ c, r }) => `${c.kind} ${c.title}: ${r.error?.message}`)).toEqual([]);
	});

	it('proposes control limits that, implemented, draw the limits the request shows', () => {
		const chars = new Map(
			DEMO_PLANT.lines
				.flatMap((l) => l.machines.flatMap((m) => m.characteristics))
				.map((c) => [c.code, c])
		);
		// Variable and attribute charts alike: what the engine draws from centre and sigma.
		const limitChanges = h.changeRequests.filter((c) => c.kind === 'control-limit');
		expect(limitChanges.length).toBeGreaterThan(5);
		for (const cr of limitChanges) {
			const c = chars.get(cr.characteristic!)!;
			const p = cr.proposal as {
				centre: number;
				sigma: number;
				proposed: { ucl: number; lcl: number };
			};
			const drawn = primaryLimits(c.chart, { centre: p.centre, sigma: p.sigma }, c.subgroupSize, {
				index: 1_000
			});
			const unit = 10 ** -(c.decimals + 1);
			expect(Math.abs(drawn.ucl! - p.proposed.ucl), `${cr.code} ${c.code}`).toBeLessThanOrEqual(
				2 * unit
			);
			expect(Math.abs(drawn.lcl! - p.proposed.lcl), `${cr.code} ${c.code}`).toBeLessThanOrEqual(
				2 * unit
			);
		}
	});

	it('holds about sixty change requests of every kind and status, approvers never the author', () => {
		const crs = h.changeRequests;
		expect(crs.length).toBeGreaterThanOrEqual(55);
		expect(crs.length).toBeLessThanOrEqual(70);
		expect(new Set(crs.map((c) => c.kind)).size).toBe(5);
		expect(new Set(crs.map((c) => c.status))).toEqual(
			new Set([
				'draft',
				'impact',
				'review',
				'approved',
				'implemented',
				'closed',
				'rejected',
				'withdrawn'
			])
		);
		expect(new Set(crs.map((c) => c.code)).size).toBe(crs.length);
		for (const c of crs) {
			if (c.approver !== null) expect(c.approver).not.toBe(c.author);
			const steps = [
				c.openedAt,
				c.impactAt,
				c.reviewAt,
				c.approvedAt,
				c.implementedAt,
				c.closedAt
			].filter((t): t is number => t !== null);
			expect([...steps].sort((a, b) => a - b)).toEqual(steps);
			expect(Math.max(...steps, c.rejectedAt ?? 0, c.withdrawnAt ?? 0)).toBeLessThanOrEqual(NOW);
			expect(c.impact === null).toBe(c.impactAt === null);
			expect(c.effectiveFrom === null).toBe(c.approvedAt === null);
			if (c.status === 'rejected') expect(c.rejectedAt).not.toBeNull();
			if (c.status === 'withdrawn') {
				expect(c.withdrawnAt).not.toBeNull();
				expect(c.approvedAt).toBeNull();
			}
			if (c.resultProcessVersion !== null) expect(c.resultProcessVersion.version).toBe(2);
		}
		// The changes that made process version 2 carry its approval.
		for (const v of h.processVersions.filter((x) => x.version === 2)) {
			const cr = crs.find((c) => c.resultProcessVersion?.product === v.product);
			expect(cr?.approvedAt).toBe(v.approvedAt);
			expect(cr?.effectiveFrom).toBe(v.effectiveFrom);
		}
	});

	it('sets a plant-wide target for every KPI, with its direction', () => {
		expect(h.kpiTargets.map((k) => k.kpi).sort()).toEqual(
			[
				'batch-yield',
				'first-pass-yield',
				'release-time',
				'change-approval-time',
				'change-close-time',
				'rework-rate',
				'scrap-rate',
				'on-time-inspections',
				'record-completeness',
				'alarms-per-line',
				'capa-aging',
				'plan-achievement'
			].sort()
		);
		for (const k of h.kpiTargets) expect(['higher', 'lower']).toContain(k.better);
	});
});
