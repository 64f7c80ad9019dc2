/**
 * The lot history: everything the lot record page shows, in one call and a handful of
 * statements — header, genealogy backward (material lots, suppliers, validation) and forward
 * (shipments), runs with their operator's certification standing at the run's start,
 * inspections (planned against done, on time / late / missed / suspect), alarms on the lot's
 * machines during its runs, per-characteristic parameter summaries, deviations, the audit trail
 * of the lot and its runs, inspections, deviations and shipments, and the lot's signatures.
 *
 * Speed (issue #5: p95 < 150 ms on a year of history and 50M samples): one statement for the
 * header and the access check, then independent statements run together, each bounded by an
 * index on the lot (run_lot_idx, lot_material_lot_idx, shipment_lot_idx, inspection's unique
 * (lot, plan, seq), deviation_lot_idx, the summary's primary key) or, for alarms, by
 * alarm_machine_ts_idx within the runs' intervals. Raw samples are read only for a lot without
 * stored summaries (a running lot), bounded by its runs' intervals on the sample primary key.
 *
 * Timestamps leave SQL as epoch ms (db/raw.ts) and become Dates here.
 */
import { AT_TEXT_SQL } from '../audit/chain';
import type { RawQuery } from '../db/raw';
import { epochMs } from '../db/raw';
import { standingAt, type CertificationStanding } from '../production/certifications';
import { canViewLot, type LotViewer } from './access';
import { HISTOGRAM_JSON, lotIntervals, summaryCtes } from './parameter-summary';
import { LOT_RECORD_TYPE, lotContentHash } from './signing';

/** The lot's own audit trail is long for a long lot; the page shows the newest this many. */
export const LOT_TRAIL_LIMIT = 500;

const ms = (v: number | null): Date | null => (v === null ? null : new Date(v));

export interface LotHeader {
	id: number;
	code: string;
	status: string;
	revision: number;
	product: { id: number; code: string; name: string };
	customer: { id: number; code: string; name: string };
	line: { id: number; code: string; name: string; siteId: number };
	processVersion: { id: number; version: number; status: string } | null;
	quantities: { planned: number; good: number; scrap: number; rework: number };
	/** The status timestamps in order; null where the lot has not reached that step. */
	timeline: {
		createdAt: Date;
		plannedStart: Date | null;
		startedAt: Date | null;
		completedAt: Date | null;
		reviewStartedAt: Date | null;
		decidedAt: Date | null;
		decidedBy: string | null;
	};
}

export interface MaterialConsumption {
	id: number;
	quantity: number;
	consumedAt: Date;
	runId: number | null;
	materialLot: {
		id: number;
		code: string;
		supplierLot: string;
		status: string;
		receivedAt: Date;
		expiresAt: Date | null;
		decidedBy: string | null;
		decidedAt: Date | null;
		evidence: string | null;
	};
	material: { id: number; code: string; name: string; unit: string };
	supplier: { id: number; code: string; name: string; approved: boolean };
}

export interface ShipmentView {
	id: number;
	code: string;
	quantity: number;
	shippedAt: Date;
	customer: { id: number; code: string; name: string };
}

export interface RunView {
	id: number;
	operation: string;
	startedAt: Date;
	endedAt: Date | null;
	machine: { id: number; code: string; name: string };
	operator: { id: number; username: string; fullName: string };
	/** The certification recorded at start and how it stood at the run's start. */
	certification: {
		id: number;
		operation: string;
		scope: 'machine' | 'line' | 'plant';
		validFrom: Date;
		validTo: Date;
		revokedAt: Date | null;
		evidence: string;
		standing: CertificationStanding;
	} | null;
	/** What the start checks recorded (certification, materials), as stored with the run. */
	checks: Record<string, unknown>;
}

export type InspectionTiming =
	'on-time' | 'late' | 'missed' | 'suspect' | 'waived' | 'overdue' | 'pending';

export interface InspectionView {
	id: number;
	seq: number;
	runId: number | null;
	plan: {
		id: number;
		name: string;
		trigger: string;
		graceMinutes: number;
		characteristicId: number | null;
	};
	status: string;
	dueAt: Date;
	doneAt: Date | null;
	doneBy: string | null;
	value: number | null;
	passed: boolean | null;
	note: string | null;
	suspectReason: string | null;
	confirmedBy: string | null;
	confirmedAt: Date | null;
	deviationId: number | null;
	timing: InspectionTiming;
}

export interface LotAlarmView {
	id: number;
	kind: string;
	rule: string;
	state: string;
	message: string;
	ts: Date;
	lastTs: Date;
	value: number | null;
	side: string | null;
	chart: string;
	occurrences: number;
	runId: number;
	machineId: number;
	characteristic: { id: number; code: string; name: string } | null;
	acknowledgedBy: string | null;
	acknowledgedAt: Date | null;
	causeCode: string | null;
	actionCode: string | null;
	inspectionId: number | null;
}

export interface ParameterSummary {
	characteristic: {
		id: number;
		code: string;
		name: string;
		unit: string;
		decimals: number;
		machineId: number;
	};
	count: number;
	min: number | null;
	max: number | null;
	mean: number | null;
	sd: number | null;
	histogram: { lo: number; hi: number; counts: number[] };
	/** Stored with the lot record, or computed now from the raw samples (running lot). */
	source: 'stored' | 'live';
	computedAt: Date;
	spec: { lsl: number | null; target: number | null; usl: number | null };
}

export interface DeviationView {
	id: number;
	code: string;
	title: string;
	description: string;
	status: string;
	alarmId: number | null;
	inspectionId: number | null;
	/** The inspection a missed-inspection alarm it was opened from is about (coverage). */
	alarmInspectionId: number | null;
	openedBy: string | null;
	openedAt: Date;
	closedBy: string | null;
	closedAt: Date | null;
}

export interface LotAuditEntry {
	id: number;
	at: string;
	actor: string;
	action: string;
	entityType: string;
	entityId: string;
	oldValues: Record<string, unknown> | null;
	newValues: Record<string, unknown> | null;
	reason: string | null;
}

export interface LotSignatureView {
	id: number;
	recordVersion: number;
	contentSha256: string;
	signerFullName: string;
	signerUsername: string;
	meaning: string;
	signedAt: Date;
	/** Bound to the lot's current revision and content (a later change shows it as not valid). */
	valid: boolean;
	invalidReason: 'superseded' | 'content-changed' | null;
	currentVersion: number;
}

export type ExceptionKind =
	| 'alarm'
	| 'inspection-missed'
	| 'inspection-late'
	| 'inspection-overdue'
	| 'inspection-suspect'
	| 'certification'
	| 'material'
	| 'deviation';

export interface LotException {
	kind: ExceptionKind;
	text: string;
	/** What it is about, for links: alarm / inspection / run / material lot / deviation id. */
	ref: number;
	/** Still open: release is refused while any is (docs/lot-release.md says what resolves each). */
	open: boolean;
	/** How it was resolved (who acknowledged, which closed deviation covers it); null while open. */
	resolution: string | null;
}

export interface LotHistory {
	header: LotHeader;
	materials: MaterialConsumption[];
	shipments: ShipmentView[];
	runs: RunView[];
	inspections: InspectionView[];
	inspectionCounts: Record<InspectionTiming, number> & { planned: number; done: number };
	alarms: LotAlarmView[];
	summaries: ParameterSummary[];
	/**
	 * True when the lot has no stored summary yet and the caller asked to defer the live one
	 * (`liveSummaries: 'defer'`): `summaries` is then empty and the caller computes them with
	 * liveParameterSummaries (the lot page streams them after the record).
	 */
	summariesDeferred: boolean;
	deviations: DeviationView[];
	audit: LotAuditEntry[];
	signatures: LotSignatureView[];
	exceptions: LotException[];
	/** Server time the record was read at (overdue/pending judged against it). */
	readAt: Date;
}

interface HeaderRow {
	id: number;
	code: string;
	status: string;
	revision: number;
	product_id: number;
	product_code: string;
	product_name: string;
	customer_id: number;
	customer_code: string;
	customer_name: string;
	line_id: number;
	line_code: string;
	line_name: string;
	site_id: number;
	pv_id: number | null;
	pv_version: number | null;
	pv_status: string | null;
	planned_qty: number;
	good_qty: number;
	scrap_qty: number;
	rework_qty: number;
	created_at: number;
	planned_start: number | null;
	started_at: number | null;
	completed_at: number | null;
	review_started_at: number | null;
	decided_at: number | null;
	decided_by: string | null;
}

/** The lot header with what the access check needs; null when no such lot. */
async function loadHeader(db: RawQuery, lotId: number): Promise<HeaderRow | null> {
	const rows = await db.query<HeaderRow>(
		`SELECT l.id, l.code, l.status, l.revision, p.id AS product_id, p.code AS product_code,
		        p.name AS product_name, c.id AS customer_id, c.code AS customer_code,
		        c.name AS customer_name, ln.id AS line_id, ln.code AS line_code, ln.name AS line_name,
		        ln.site_id, pv.id AS pv_id, pv.version AS pv_version, pv.status AS pv_status,
		        l.planned_qty, l.good_qty, l.scrap_qty, l.rework_qty,
		        ${epochMs('l.created_at')} AS created_at, ${epochMs('l.planned_start')} AS planned_start,
		        ${epochMs('l.started_at')} AS started_at, ${epochMs('l.completed_at')} AS completed_at,
		        ${epochMs('l.review_started_at')} AS review_started_at,
		        ${epochMs('l.decided_at')} AS decided_at, du.full_name AS decided_by
		 FROM lot l
		 JOIN product p ON p.id = l.product_id
		 JOIN customer c ON c.id = p.customer_id
		 JOIN line ln ON ln.id = l.line_id
		 LEFT JOIN process_version pv ON pv.id = l.process_version_id
		 LEFT JOIN app_user du ON du.id = l.decided_by
		 WHERE l.id = $1`,
		[lotId]
	);
	return rows[0] ?? null;
}

function toHeader(r: HeaderRow): LotHeader {
	return {
		id: r.id,
		code: r.code,
		status: r.status,
		revision: r.revision,
		product: { id: r.product_id, code: r.product_code, name: r.product_name },
		customer: { id: r.customer_id, code: r.customer_code, name: r.customer_name },
		line: { id: r.line_id, code: r.line_code, name: r.line_name, siteId: r.site_id },
		processVersion:
			r.pv_id === null
				? null
				: { id: r.pv_id, version: r.pv_version as number, status: r.pv_status as string },
		quantities: {
			planned: r.planned_qty,
			good: r.good_qty,
			scrap: r.scrap_qty,
			rework: r.rework_qty
		},
		timeline: {
			createdAt: new Date(r.created_at),
			plannedStart: ms(r.planned_start),
			startedAt: ms(r.started_at),
			completedAt: ms(r.completed_at),
			reviewStartedAt: ms(r.review_started_at),
			decidedAt: ms(r.decided_at),
			decidedBy: r.decided_by
		}
	};
}

async function loadMaterials(db: RawQuery, lotId: number): Promise<MaterialConsumption[]> {
	const rows = await db.query<{
		id: number;
		quantity: number;
		consumed_at: number;
		run_id: number | null;
		ml_id: number;
		ml_code: string;
		supplier_lot: string;
		ml_status: string;
		received_at: number;
		expires_at: number | null;
		decided_by: string | null;
		decided_at: number | null;
		evidence: string | null;
		m_id: number;
		m_code: string;
		m_name: string;
		m_unit: string;
		s_id: number;
		s_code: string;
		s_name: string;
		s_approved: boolean;
	}>(
		`SELECT lm.id, lm.quantity, ${epochMs('lm.consumed_at')} AS consumed_at, lm.run_id,
		        ml.id AS ml_id, ml.code AS ml_code, ml.supplier_lot, ml.status AS ml_status,
		        ${epochMs('ml.received_at')} AS received_at, ${epochMs('ml.expires_at')} AS expires_at,
		        du.full_name AS decided_by, ${epochMs('ml.decided_at')} AS decided_at, ml.evidence,
		        m.id AS m_id, m.code AS m_code, m.name AS m_name, m.unit AS m_unit,
		        s.id AS s_id, s.code AS s_code, s.name AS s_name, s.approved AS s_approved
		 FROM lot_material lm
		 JOIN material_lot ml ON ml.id = lm.material_lot_id
		 JOIN material m ON m.id = ml.material_id
		 JOIN supplier s ON s.id = ml.supplier_id
		 LEFT JOIN app_user du ON du.id = ml.decided_by
		 WHERE lm.lot_id = $1
		 ORDER BY lm.consumed_at, lm.id`,
		[lotId]
	);
	return rows.map((r) => ({
		id: r.id,
		quantity: r.quantity,
		consumedAt: new Date(r.consumed_at),
		runId: r.run_id,
		materialLot: {
			id: r.ml_id,
			code: r.ml_code,
			supplierLot: r.supplier_lot,
			status: r.ml_status,
			receivedAt: new Date(r.received_at),
			expiresAt: ms(r.expires_at),
			decidedBy: r.decided_by,
			decidedAt: ms(r.decided_at),
			evidence: r.evidence
		},
		material: { id: r.m_id, code: r.m_code, name: r.m_name, unit: r.m_unit },
		supplier: { id: r.s_id, code: r.s_code, name: r.s_name, approved: r.s_approved }
	}));
}

async function loadShipments(db: RawQuery, lotId: number): Promise<ShipmentView[]> {
	const rows = await db.query<{
		id: number;
		code: string;
		quantity: number;
		shipped_at: number;
		c_id: number;
		c_code: string;
		c_name: string;
	}>(
		`SELECT sh.id, sh.code, sh.quantity, ${epochMs('sh.shipped_at')} AS shipped_at,
		        c.id AS c_id, c.code AS c_code, c.name AS c_name
		 FROM shipment sh JOIN customer c ON c.id = sh.customer_id
		 WHERE sh.lot_id = $1 ORDER BY sh.shipped_at, sh.id`,
		[lotId]
	);
	return rows.map((r) => ({
		id: r.id,
		code: r.code,
		quantity: r.quantity,
		shippedAt: new Date(r.shipped_at),
		customer: { id: r.c_id, code: r.c_code, name: r.c_name }
	}));
}

async function loadRuns(db: RawQuery, lotId: number): Promise<RunView[]> {
	const rows = await db.query<{
		id: number;
		operation: string;
		started_at: number;
		ended_at: number | null;
		checks: Record<string, unknown>;
		m_id: number;
		m_code: string;
		m_name: string;
		u_id: number;
		username: string;
		full_name: string;
		c_id: number | null;
		c_operation: string | null;
		c_line: number | null;
		c_machine: number | null;
		valid_from: number | null;
		valid_to: number | null;
		revoked_at: number | null;
		evidence: string | null;
	}>(
		`SELECT r.id, r.operation, ${epochMs('r.started_at')} AS started_at,
		        ${epochMs('r.ended_at')} AS ended_at, r.checks,
		        m.id AS m_id, m.code AS m_code, m.name AS m_name,
		        u.id AS u_id, u.username, u.full_name,
		        c.id AS c_id, c.operation AS c_operation, c.line_id AS c_line, c.machine_id AS c_machine,
		        ${epochMs('c.valid_from')} AS valid_from, ${epochMs('c.valid_to')} AS valid_to,
		        ${epochMs('c.revoked_at')} AS revoked_at, c.evidence
		 FROM run r
		 JOIN machine m ON m.id = r.machine_id
		 JOIN app_user u ON u.id = r.operator_id
		 LEFT JOIN certification c ON c.id = r.certification_id
		 WHERE r.lot_id = $1
		 ORDER BY r.started_at, r.id`,
		[lotId]
	);
	return rows.map((r) => {
		const startedAt = new Date(r.started_at);
		let certification: RunView['certification'] = null;
		if (r.c_id !== null) {
			const cert = {
				validFrom: new Date(r.valid_from as number),
				validTo: new Date(r.valid_to as number),
				revokedAt: ms(r.revoked_at)
			};
			certification = {
				id: r.c_id,
				operation: r.c_operation as string,
				scope: r.c_machine !== null ? 'machine' : r.c_line !== null ? 'line' : 'plant',
				...cert,
				evidence: r.evidence as string,
				// As it stood when the run started: a later expiry or revocation does not rewrite it.
				standing: standingAt(cert, startedAt)
			};
		}
		return {
			id: r.id,
			operation: r.operation,
			startedAt,
			endedAt: ms(r.ended_at),
			machine: { id: r.m_id, code: r.m_code, name: r.m_name },
			operator: { id: r.u_id, username: r.username, fullName: r.full_name },
			certification,
			checks: r.checks ?? {}
		};
	});
}

/**
 * How an inspection went, judged against its due time and grace period:
 * done within grace → on time, after → late; `due` past grace at `now` → overdue (the sweep
 * will mark it missed), else pending.
 */
export function inspectionTiming(
	i: { status: string; dueAt: Date; doneAt: Date | null; graceMinutes: number },
	now: Date
): InspectionTiming {
	const deadline = i.dueAt.getTime() + i.graceMinutes * 60_000;
	switch (i.status) {
		case 'missed':
			return 'missed';
		case 'suspect':
			return 'suspect';
		case 'waived':
			return 'waived';
		case 'done':
			return i.doneAt !== null && i.doneAt.getTime() > deadline ? 'late' : 'on-time';
		default:
			return now.getTime() > deadline ? 'overdue' : 'pending';
	}
}

async function loadInspections(db: RawQuery, lotId: number, now: Date): Promise<InspectionView[]> {
	const rows = await db.query<{
		id: number;
		seq: number;
		run_id: number | null;
		plan_id: number;
		plan_name: string;
		trigger: string;
		grace_minutes: number;
		characteristic_id: number | null;
		status: string;
		due_at: number;
		done_at: number | null;
		done_by: string | null;
		value: number | null;
		passed: boolean | null;
		note: string | null;
		suspect_reason: string | null;
		confirmed_by: string | null;
		confirmed_at: number | null;
		deviation_id: number | null;
	}>(
		`SELECT i.id, i.seq, i.run_id, ip.id AS plan_id, ip.name AS plan_name, ip.trigger,
		        ip.grace_minutes, ip.characteristic_id, i.status, ${epochMs('i.due_at')} AS due_at,
		        ${epochMs('i.done_at')} AS done_at, db.full_name AS done_by, i.value, i.passed, i.note,
		        i.suspect_reason, cb.full_name AS confirmed_by,
		        ${epochMs('i.confirmed_at')} AS confirmed_at, i.deviation_id
		 FROM inspection i
		 JOIN inspection_plan ip ON ip.id = i.plan_id
		 LEFT JOIN app_user db ON db.id = i.done_by
		 LEFT JOIN app_user cb ON cb.id = i.confirmed_by
		 WHERE i.lot_id = $1
		 ORDER BY i.due_at, i.id`,
		[lotId]
	);
	return rows.map((r) => {
		const view = {
			id: r.id,
			seq: r.seq,
			runId: r.run_id,
			plan: {
				id: r.plan_id,
				name: r.plan_name,
				trigger: r.trigger,
				graceMinutes: r.grace_minutes,
				characteristicId: r.characteristic_id
			},
			status: r.status,
			dueAt: new Date(r.due_at),
			doneAt: ms(r.done_at),
			doneBy: r.done_by,
			value: r.value,
			passed: r.passed,
			note: r.note,
			suspectReason: r.suspect_reason,
			confirmedBy: r.confirmed_by,
			confirmedAt: ms(r.confirmed_at),
			deviationId: r.deviation_id
		};
		return {
			...view,
			timing: inspectionTiming({ ...view, graceMinutes: r.grace_minutes }, now)
		};
	});
}

/**
 * Alarms raised on the lot's machines while one of its runs was on them (an alarm raised at
 * the run's start counts, one at its end belongs to whatever ran next). One row per alarm even
 * when two runs of the lot overlap on a machine.
 */
async function loadAlarms(db: RawQuery, lotId: number): Promise<LotAlarmView[]> {
	const rows = await db.query<{
		id: number;
		kind: string;
		rule: string;
		state: string;
		message: string;
		ts: number;
		last_ts: number;
		value: number | null;
		side: string | null;
		chart: string;
		occurrences: number;
		run_id: number;
		machine_id: number;
		c_id: number | null;
		c_code: string | null;
		c_name: string | null;
		ack_by: string | null;
		ack_at: number | null;
		cause_code: string | null;
		action_code: string | null;
		inspection_id: number | null;
	}>(
		`SELECT DISTINCT ON (a.id) a.id, a.kind, a.rule, a.state, a.message, ${epochMs('a.ts')} AS ts,
		        ${epochMs('a.last_ts')} AS last_ts, a.value, a.side, a.chart, a.occurrences,
		        r.id AS run_id, r.machine_id, ch.id AS c_id, ch.code AS c_code, ch.name AS c_name,
		        au.full_name AS ack_by, ${epochMs('a.acknowledged_at')} AS ack_at, a.cause_code,
		        a.action_code, a.inspection_id
		 FROM run r
		 JOIN alarm a ON a.machine_id = r.machine_id AND a.ts >= r.started_at
		             AND (r.ended_at IS NULL OR a.ts < r.ended_at)
		 LEFT JOIN characteristic ch ON ch.id = a.characteristic_id
		 LEFT JOIN app_user au ON au.id = a.acknowledged_by
		 WHERE r.lot_id = $1
		 ORDER BY a.id, r.started_at`,
		[lotId]
	);
	return rows
		.map((r) => ({
			id: r.id,
			kind: r.kind,
			rule: r.rule,
			state: r.state,
			message: r.message,
			ts: new Date(r.ts),
			lastTs: new Date(r.last_ts),
			value: r.value,
			side: r.side,
			chart: r.chart,
			occurrences: r.occurrences,
			runId: r.run_id,
			machineId: r.machine_id,
			characteristic:
				r.c_id === null ? null : { id: r.c_id, code: r.c_code as string, name: r.c_name as string },
			acknowledgedBy: r.ack_by,
			acknowledgedAt: ms(r.ack_at),
			causeCode: r.cause_code,
			actionCode: r.action_code,
			inspectionId: r.inspection_id
		}))
		.sort((a, b) => a.ts.getTime() - b.ts.getTime() || a.id - b.id);
}

interface SummaryRow {
	c_id: number;
	c_code: string;
	c_name: string;
	unit: string;
	decimals: number;
	machine_id: number;
	count: number;
	min: number | null;
	max: number | null;
	mean: number | null;
	sd: number | null;
	histogram: { lo: number; hi: number; counts: number[] } | null;
	computed_at: number;
	lsl: number | null;
	target: number | null;
	usl: number | null;
}

function toSummary(r: SummaryRow, source: 'stored' | 'live'): ParameterSummary {
	return {
		characteristic: {
			id: r.c_id,
			code: r.c_code,
			name: r.c_name,
			unit: r.unit,
			decimals: r.decimals,
			machineId: r.machine_id
		},
		count: r.count,
		min: r.min,
		max: r.max,
		mean: r.mean,
		sd: r.sd,
		histogram: r.histogram ?? { lo: 0, hi: 0, counts: [] },
		source,
		computedAt: new Date(r.computed_at),
		spec: { lsl: r.lsl, target: r.target, usl: r.usl }
	};
}

/** Spec of a characteristic for this lot: its process version's, else the characteristic's. */
const SPEC_COLUMNS = `coalesce(ps.lsl, ch.spec_lsl) AS lsl, coalesce(ps.target, ch.spec_target) AS target,
	coalesce(ps.usl, ch.spec_usl) AS usl`;

async function loadStoredSummaries(db: RawQuery, lotId: number): Promise<ParameterSummary[]> {
	const rows = await db.query<SummaryRow>(
		`SELECT ch.id AS c_id, ch.code AS c_code, ch.name AS c_name, ch.unit, ch.decimals,
		        ch.machine_id, s.count, s.min, s.max, s.mean, s.sd, s.histogram,
		        ${epochMs('s.computed_at')} AS computed_at, ${SPEC_COLUMNS}
		 FROM lot_parameter_summary s
		 JOIN lot l ON l.id = s.lot_id
		 JOIN characteristic ch ON ch.id = s.characteristic_id
		 LEFT JOIN process_spec ps ON ps.process_version_id = l.process_version_id
		                          AND ps.characteristic_id = ch.id
		 WHERE s.lot_id = $1
		 ORDER BY ch.machine_id, ch.id`,
		[lotId]
	);
	return rows.map((r) => toSummary(r, 'stored'));
}

/**
 * The same statistics computed now from the raw samples of the characteristics of the lot's
 * machines within its runs' intervals (suspect samples left out, as the SPC monitor leaves them
 * out): for a running lot, whose summary is stored only when it completes.
 */
export async function liveParameterSummaries(
	db: RawQuery,
	lotId: number,
	now: Date = new Date()
): Promise<ParameterSummary[]> {
	const intervals = await lotIntervals(db, lotId, now.getTime());
	if (intervals.length === 0) return [];
	const ctes = summaryCtes(intervals, 3);
	const rows = await db.query<SummaryRow>(
		`${ctes.sql}
		SELECT ch.id AS c_id, ch.code AS c_code, ch.name AS c_name, ch.unit, ch.decimals,
		       ch.machine_id, st.n AS count, st.lo AS min, st.hi AS max, st.mean, st.sd,
		       ${HISTOGRAM_JSON} AS histogram,
		       $2::float8 AS computed_at, ${SPEC_COLUMNS}
		FROM st
		JOIN characteristic ch ON ch.id = st.cid
		JOIN lot l ON l.id = $1
		LEFT JOIN process_spec ps ON ps.process_version_id = l.process_version_id
		                         AND ps.characteristic_id = ch.id
		ORDER BY ch.machine_id, ch.id`,
		[lotId, now.getTime(), ...ctes.params]
	);
	return rows.map((r) => toSummary(r, 'live'));
}

async function loadDeviations(db: RawQuery, lotId: number): Promise<DeviationView[]> {
	const rows = await db.query<{
		id: number;
		code: string;
		title: string;
		description: string;
		status: string;
		alarm_id: number | null;
		inspection_id: number | null;
		alarm_inspection_id: number | null;
		opened_by: string | null;
		opened_at: number;
		closed_by: string | null;
		closed_at: number | null;
	}>(
		`SELECT d.id, d.code, d.title, d.description, d.status, d.alarm_id, d.inspection_id,
		        da.inspection_id AS alarm_inspection_id,
		        ob.full_name AS opened_by, ${epochMs('d.opened_at')} AS opened_at,
		        cb.full_name AS closed_by, ${epochMs('d.closed_at')} AS closed_at
		 FROM deviation d
		 LEFT JOIN alarm da ON da.id = d.alarm_id
		 LEFT JOIN app_user ob ON ob.id = d.opened_by
		 LEFT JOIN app_user cb ON cb.id = d.closed_by
		 WHERE d.lot_id = $1 ORDER BY d.opened_at, d.id`,
		[lotId]
	);
	return rows.map((r) => ({
		id: r.id,
		code: r.code,
		title: r.title,
		description: r.description,
		status: r.status,
		alarmId: r.alarm_id,
		inspectionId: r.inspection_id,
		alarmInspectionId: r.alarm_inspection_id,
		openedBy: r.opened_by,
		openedAt: new Date(r.opened_at),
		closedBy: r.closed_by,
		closedAt: ms(r.closed_at)
	}));
}

/**
 * The audit events of the lot and of the records that belong to it (its runs, inspections,
 * deviations, shipments and consumption edges), newest LOT_TRAIL_LIMIT, shown oldest first.
 * Each (entity type, id) pair is one probe of audit_event_entity_idx.
 */
async function loadAudit(db: RawQuery, lotId: number): Promise<LotAuditEntry[]> {
	const rows = await db.query<{
		id: number;
		at: string;
		actor_label: string;
		action: string;
		entity_type: string;
		entity_id: string;
		old_values: Record<string, unknown> | null;
		new_values: Record<string, unknown> | null;
		reason: string | null;
	}>(
		`WITH keys(t, k) AS (
			SELECT 'lot', $1::int::text
			UNION ALL SELECT 'run', id::text FROM run WHERE lot_id = $1
			UNION ALL SELECT 'inspection', id::text FROM inspection WHERE lot_id = $1
			UNION ALL SELECT 'deviation', id::text FROM deviation WHERE lot_id = $1
			UNION ALL SELECT 'shipment', id::text FROM shipment WHERE lot_id = $1
			UNION ALL SELECT 'lot_material', id::text FROM lot_material WHERE lot_id = $1
		)
		SELECT e.id::float8 AS id, ${AT_TEXT_SQL('e.at')} AS at, e.actor_label, e.action,
		       e.entity_type, e.entity_id, e.old_values, e.new_values, e.reason
		FROM keys
		CROSS JOIN LATERAL (
			SELECT * FROM audit_event ae WHERE ae.entity_type = keys.t AND ae.entity_id = keys.k
			ORDER BY ae.id DESC LIMIT ${LOT_TRAIL_LIMIT}
		) e
		ORDER BY e.id DESC LIMIT ${LOT_TRAIL_LIMIT}`,
		[lotId]
	);
	return rows.reverse().map((r) => ({
		id: r.id,
		at: r.at,
		actor: r.actor_label,
		action: r.action,
		entityType: r.entity_type,
		entityId: r.entity_id,
		oldValues: r.old_values,
		newValues: r.new_values,
		reason: r.reason
	}));
}

export { LOT_RECORD_TYPE };

/**
 * The lot's signatures, each judged against the lot as it is now: signed at the current
 * revision AND over the same content (lots/signing.ts recomputes the SHA-256 of the signed
 * content; a mismatch at the same revision means the record changed without a new revision).
 */
async function loadSignatures(
	db: RawQuery,
	lotId: number,
	revision: number
): Promise<LotSignatureView[]> {
	const current = await lotContentHash(db, lotId);
	const rows = await db.query<{
		id: number;
		record_version: number;
		content_sha256: string;
		signer_full_name: string;
		signer_username: string;
		meaning: string;
		signed_at: number;
	}>(
		`SELECT id, record_version, content_sha256, signer_full_name, signer_username, meaning,
		        ${epochMs('signed_at')} AS signed_at
		 FROM signature WHERE record_type = $1 AND record_id = $2
		 ORDER BY signed_at, id`,
		[LOT_RECORD_TYPE, String(lotId)]
	);
	return rows.map((r) => ({
		id: r.id,
		recordVersion: r.record_version,
		contentSha256: r.content_sha256,
		signerFullName: r.signer_full_name,
		signerUsername: r.signer_username,
		meaning: r.meaning,
		signedAt: new Date(r.signed_at),
		...signatureValidity(r, current?.version ?? revision, current?.sha256 ?? null),
		currentVersion: current?.version ?? revision
	}));
}

function signatureValidity(
	r: { record_version: number; content_sha256: string },
	version: number,
	sha256: string | null
): Pick<LotSignatureView, 'valid' | 'invalidReason'> {
	if (r.record_version !== version) return { valid: false, invalidReason: 'superseded' };
	if (r.content_sha256 !== sha256) return { valid: false, invalidReason: 'content-changed' };
	return { valid: true, invalidReason: null };
}

const fmtTime = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Alarm states that set an alarm aside without anyone having responded to it. */
const SET_ASIDE = ['shelved', 'suppressed', 'out_of_service'];

/**
 * What a reviewer must look at first: every departure the record shows, each either OPEN (lot
 * release is refused while one is: lots/release.ts) or resolved, with how. docs/lot-release.md
 * is the reference; in short:
 * - alarm during a run: resolved when acknowledged (state acknowledged or cleared, or set aside
 *   after an acknowledgement) or when a closed deviation was opened from it;
 * - deviation of the lot: open while its status is not `closed`;
 * - missed, overdue, late or waived inspection: resolved by a CLOSED deviation covering it (on
 *   the inspection, on the missed-inspection alarm about it, the one that waived it, or on the
 *   lot as a whole — the rule completion uses, here with the deviation closed);
 * - suspect result: open until a second person confirmed it (then resolved, and still listed);
 * - run whose operator's certification was not current at its start, material lot not
 *   validated: resolved by a closed deviation on the lot as a whole.
 */
export function lotExceptions(
	h: Pick<LotHistory, 'alarms' | 'inspections' | 'runs' | 'materials' | 'deviations'>
): LotException[] {
	const out: LotException[] = [];
	const closed = h.deviations.filter((d) => d.status === 'closed');
	const closedText = (d: DeviationView) =>
		`covered by deviation ${d.code}, closed${d.closedBy ? ` by ${d.closedBy}` : ''}${d.closedAt ? ` ${fmtTime(d.closedAt)}` : ''}`;
	// A deviation on the lot as a whole (not opened from an alarm or an inspection).
	const lotWide = closed.find((d) => d.alarmId === null && d.inspectionId === null) ?? null;

	for (const a of h.alarms) {
		const where = a.characteristic ? a.characteristic.code : `machine ${a.machineId}`;
		const acknowledged =
			a.state === 'acknowledged' ||
			a.state === 'cleared' ||
			(SET_ASIDE.includes(a.state) && a.acknowledgedAt !== null);
		const viaDeviation = closed.find((d) => d.alarmId === a.id) ?? null;
		const resolution = acknowledged
			? a.acknowledgedBy
				? `acknowledged by ${a.acknowledgedBy}${a.acknowledgedAt ? ` ${fmtTime(a.acknowledgedAt)}` : ''}${a.causeCode ? ` (cause ${a.causeCode})` : ''}`
				: a.state === 'cleared'
					? 'acknowledged and cleared'
					: 'acknowledged'
			: viaDeviation
				? closedText(viaDeviation)
				: null;
		out.push({
			kind: 'alarm',
			ref: a.id,
			text: `${where}: ${a.message} (${fmtTime(a.ts)}), ${a.state.replace(/_/g, ' ')}`,
			open: resolution === null,
			resolution
		});
	}

	const inspectionKinds: Partial<Record<InspectionTiming, ExceptionKind>> = {
		missed: 'inspection-missed',
		late: 'inspection-late',
		overdue: 'inspection-overdue',
		suspect: 'inspection-suspect',
		waived: 'inspection-missed'
	};
	const inspectionWords: Partial<Record<InspectionTiming, string>> = {
		missed: 'missed',
		late: 'done late',
		overdue: 'overdue',
		suspect: 'suspect result awaiting confirmation',
		waived: 'not done, waived under a deviation'
	};
	for (const i of h.inspections) {
		const label = `${i.plan.name} #${i.seq} due ${fmtTime(i.dueAt)}`;
		if (i.timing === 'suspect') {
			out.push({
				kind: 'inspection-suspect',
				ref: i.id,
				text: `${label}: ${inspectionWords.suspect}`,
				open: true,
				resolution: null
			});
			continue;
		}
		if (i.suspectReason !== null && i.confirmedBy !== null) {
			out.push({
				kind: 'inspection-suspect',
				ref: i.id,
				text: `${label}: suspect result (${i.suspectReason})`,
				open: false,
				resolution: `confirmed by ${i.confirmedBy}${i.confirmedAt ? ` ${fmtTime(i.confirmedAt)}` : ''}`
			});
		}
		const kind = inspectionKinds[i.timing];
		if (!kind) continue;
		// Most specific first, as completion's coveringDeviation, but only a closed one resolves.
		const covering =
			closed.find((d) => d.id === i.deviationId) ??
			closed.find((d) => d.inspectionId === i.id) ??
			closed.find((d) => d.alarmInspectionId === i.id) ??
			lotWide;
		out.push({
			kind,
			ref: i.id,
			text: `${label}: ${inspectionWords[i.timing]}`,
			open: covering === null,
			resolution: covering ? closedText(covering) : null
		});
	}

	for (const r of h.runs) {
		const who = `${r.operator.fullName} on ${r.machine.code} (${r.operation})`;
		const problem =
			r.certification === null
				? 'no certification recorded at start'
				: r.certification.standing !== 'current'
					? `certification ${r.certification.standing} at start`
					: null;
		if (problem === null) continue;
		out.push({
			kind: 'certification',
			ref: r.id,
			text: `${who}: ${problem}`,
			open: lotWide === null,
			resolution: lotWide ? closedText(lotWide) : null
		});
	}
	for (const m of h.materials) {
		if (m.materialLot.status === 'validated') continue;
		out.push({
			kind: 'material',
			ref: m.materialLot.id,
			text: `Material lot ${m.materialLot.code} (${m.material.code}) is ${m.materialLot.status}`,
			open: lotWide === null,
			resolution: lotWide ? closedText(lotWide) : null
		});
	}
	for (const d of h.deviations) {
		const isOpen = d.status !== 'closed';
		out.push({
			kind: 'deviation',
			ref: d.id,
			text: `Deviation ${d.code} ${isOpen ? d.status : 'closed'}: ${d.title}`,
			open: isOpen,
			resolution: isOpen
				? null
				: `closed${d.closedBy ? ` by ${d.closedBy}` : ''}${d.closedAt ? ` ${fmtTime(d.closedAt)}` : ''}`
		});
	}
	// Open ones first (stable: each kind keeps its order), then the resolved ones.
	return [...out.filter((e) => e.open), ...out.filter((e) => !e.open)];
}

/**
 * The exceptions of one lot alone (the release service under its lock, the review queue):
 * the five statements lotExceptions needs, none of the rest of the history.
 */
export async function loadLotExceptions(
	db: RawQuery,
	lotId: number,
	now: Date = new Date()
): Promise<LotException[]> {
	const [alarms, inspections, runs, materials, deviations] = await Promise.all([
		loadAlarms(db, lotId),
		loadInspections(db, lotId, now),
		loadRuns(db, lotId),
		loadMaterials(db, lotId),
		loadDeviations(db, lotId)
	]);
	return lotExceptions({ alarms, inspections, runs, materials, deviations });
}

function countInspections(list: InspectionView[]): LotHistory['inspectionCounts'] {
	const counts: LotHistory['inspectionCounts'] = {
		planned: list.length,
		done: 0,
		'on-time': 0,
		late: 0,
		missed: 0,
		suspect: 0,
		waived: 0,
		overdue: 0,
		pending: 0
	};
	for (const i of list) {
		counts[i.timing]++;
		if (i.status === 'done') counts.done++;
	}
	return counts;
}

/**
 * The lot record, or null when there is no such lot OR the viewer may not see it (the caller
 * answers 404 either way; see access.ts).
 */
export async function loadLotHistory(
	database: RawQuery,
	lotId: number,
	viewer: LotViewer,
	now: Date = new Date(),
	options: { liveSummaries?: 'inline' | 'defer' } = {}
): Promise<LotHistory | null> {
	if (!Number.isSafeInteger(lotId) || lotId <= 0 || lotId > 2_147_483_647) return null;
	const row = await loadHeader(database, lotId);
	if (!row) return null;
	if (
		!canViewLot(viewer, { lineId: row.line_id, siteId: row.site_id, customerId: row.customer_id })
	) {
		return null;
	}
	const [materials, shipments, runs, inspections, alarms, stored, deviations, audit, signatures] =
		await Promise.all([
			loadMaterials(database, lotId),
			loadShipments(database, lotId),
			loadRuns(database, lotId),
			loadInspections(database, lotId, now),
			loadAlarms(database, lotId),
			loadStoredSummaries(database, lotId),
			loadDeviations(database, lotId),
			loadAudit(database, lotId),
			loadSignatures(database, lotId, row.revision)
		]);
	// A running lot has no stored summary yet (it is written at completion): compute it live —
	// a full pass over its raw samples (≈ 0.35 s per million on 2 cores), so the lot page defers
	// it and streams it after the record instead of holding the whole page for it.
	const live = stored.length === 0 && row.started_at !== null;
	const deferred = live && options.liveSummaries === 'defer';
	const summaries = live && !deferred ? await liveParameterSummaries(database, lotId, now) : stored;
	const parts = { alarms, inspections, runs, materials, deviations };
	return {
		header: toHeader(row),
		materials,
		shipments,
		runs,
		inspections,
		inspectionCounts: countInspections(inspections),
		alarms,
		summaries,
		summariesDeferred: deferred,
		deviations,
		audit,
		signatures,
		exceptions: lotExceptions(parts),
		readAt: now
	};
}
