/**
 * A year of production history for the demo plant, as pure data: the master data (customers,
 * products, process versions with specs, suppliers, materials, people and their
 * certifications, inspection plans) and what happened (material lots received and decided,
 * lots with their runs, consumption, inspections, alarms, deviations, shipments and per-lot
 * parameter summaries), ending with one lot RUNNING NOW on every line.
 *
 * Deterministic: the same (now, seed, plant) gives the same history, to the millisecond. No
 * I/O; imported with relative paths only (workers and scripts run under tsx). The server's
 * seeder (src/lib/server/production/demo-history.ts) turns it into rows.
 *
 * References between records are indices into the arrays of `DemoHistory` (`lot: 12` is
 * `history.lots[12]`); master data and people are referenced by their natural codes
 * (product code, line/machine/characteristic code, username). The seeder maps both to ids.
 *
 * The timeline is built BACKWARDS from `now`: the running lot of each line started 1-4 h before
 * `now`, the lot before it ended a changeover earlier, and so on until a year ago. So the
 * running lots never depend on where a forward walk happens to land.
 *
 * Deliberate exceptions (docs/demo-history.md lists them; the invariant tests allow exactly
 * these): one run in the last month by an operator whose certification had lapsed (a
 * deviation records it), a few missed inspections (each with an inspection alarm and a
 * deviation), a few late inspections, a few suspect results confirmed by a second person (the
 * lot is rejected), one rejected material lot (never consumed), quarantined material lots
 * (received in the last days, never consumed), certifications expiring within 14 days, one
 * expired and one revoked.
 */
import { primaryLimits } from '../spc/points';
import { mulberry32, fnv1a, standardNormal } from './generator';
import { DEMO_PLANT, type DemoCharacteristic, type DemoLine, type DemoPlant } from './plant';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** How far back the history goes. */
export const HISTORY_DAYS = 365;
/** Process version 2 became effective this long before `now` (version 1 a year before). */
export const V2_AGE_DAYS = 182;
/** Equal-width bins of every per-lot histogram. */
export const HISTOGRAM_BINS = 20;
/**
 * The first version released no lot completed more recently than this; the release times now
 * come from a distribution (releaseTimeMs), and this stays for that version's draw pattern.
 */
export const REVIEW_WINDOW_MS = 30 * HOUR_MS;
/** No historical alarm in the last day: the wall's live alarms are the simulator's. */
export const ALARM_QUIET_MS = DAY_MS;

// ------------------------------------------------------------------------------------------
// Types
// ------------------------------------------------------------------------------------------

export interface HistoryCustomer {
	code: string;
	name: string;
}

export interface HistoryProduct {
	code: string;
	name: string;
	customer: string;
	line: string;
	/** Parts per hour of the whole line. */
	ratePerHour: number;
	plannedQty: [number, number];
	/** Scrap and rework as fractions of the parts made: [min, max]. */
	scrap: [number, number];
	rework: [number, number];
	/** What a run on a machine consumes per part, by machine code. */
	bom: Record<string, { material: string; perPart: number }[]>;
}

export interface HistorySpec {
	characteristic: string;
	lsl: number | null;
	target: number | null;
	usl: number | null;
}

export interface HistoryProcessVersion {
	product: string;
	version: number;
	status: 'effective' | 'superseded';
	effectiveFrom: number;
	description: string;
	approvedBy: string;
	approvedAt: number;
	createdBy: string;
	specs: HistorySpec[];
}

export interface HistorySupplier {
	code: string;
	name: string;
	approved: boolean;
}

export interface HistoryMaterial {
	code: string;
	name: string;
	unit: string;
	supplier: string;
	/** Days between receipts. */
	everyDays: number;
	/** Quantity received when nothing says otherwise (unconsumed lots). */
	nominal: number;
	/** Shelf life, days (null = none). */
	shelfDays: number | null;
}

export interface HistoryMaterialLot {
	code: string;
	material: string;
	supplier: string;
	supplierLot: string;
	quantity: number;
	receivedAt: number;
	expiresAt: number | null;
	status: 'quarantine' | 'validated' | 'rejected';
	decidedBy: string | null;
	decidedAt: number | null;
	evidence: string | null;
}

export interface HistoryPerson {
	username: string;
	fullName: string;
	/** Line the operator works on (a role grant scoped to it). */
	line: string;
}

export interface HistoryCertification {
	username: string;
	operation: string;
	line: string;
	validFrom: number;
	validTo: number;
	evidence: string;
	grantedBy: string;
	revokedAt: number | null;
	revokedBy: string | null;
	revokeReason: string | null;
}

export type HistoryTrigger = 'every-n-parts' | 'every-t-minutes' | 'lot-start' | 'lot-end';

export interface HistoryInspectionPlan {
	product: string;
	name: string;
	characteristic: string | null;
	trigger: HistoryTrigger;
	everyParts: number | null;
	everyMinutes: number | null;
	graceMinutes: number;
}

export type HistoryLotStatus =
	'planned' | 'running' | 'completed' | 'in_review' | 'released' | 'rejected';

export interface HistoryLot {
	code: string;
	product: string;
	line: string;
	/** Process version number (null while planned). */
	version: number | null;
	plannedQty: number;
	goodQty: number;
	scrapQty: number;
	reworkQty: number;
	status: HistoryLotStatus;
	plannedStart: number;
	startedAt: number | null;
	completedAt: number | null;
	reviewStartedAt: number | null;
	decidedAt: number | null;
	decidedBy: string | null;
	/** Status changes so far + 1 (the record version signatures bind to). */
	revision: number;
}

export interface HistoryRunCheck {
	certification: {
		/** Index into `certifications`, or null when none was current (the documented exception). */
		certification: number | null;
		operation: string;
		standing: 'current' | 'expired' | 'not-yet-valid' | 'revoked' | 'none';
		validTo: number | null;
	};
	materials: { materialLot: string; status: 'validated'; decidedAt: number }[];
}

export interface HistoryRun {
	lot: number;
	machine: string;
	operator: string;
	operation: string;
	startedAt: number;
	endedAt: number | null;
	/** Parts this run made (shared out of the lot's quantities). */
	parts: number;
	certification: number | null;
	checks: HistoryRunCheck;
	startedBy: string;
	/** True only for the documented certification exception. */
	exception?: 'expired-certification';
}

export interface HistoryConsumption {
	lot: number;
	run: number;
	materialLot: string;
	quantity: number;
	consumedAt: number;
}

export interface HistoryInspection {
	lot: number;
	/** Index into `inspectionPlans`. */
	plan: number;
	run: number;
	seq: number;
	dueAt: number;
	status: 'due' | 'done' | 'missed';
	doneAt: number | null;
	doneBy: string | null;
	value: number | null;
	passed: boolean | null;
	note: string | null;
	suspectReason: string | null;
	confirmedBy: string | null;
	confirmedAt: number | null;
	deviation: number | null;
	/** For tests and docs: how this inspection was generated. */
	kind: 'on-time' | 'late' | 'missed' | 'suspect-confirmed' | 'open';
}

export interface HistoryAlarm {
	kind: 'spc' | 'spec' | 'inspection';
	characteristic: string | null;
	machine: string;
	line: string;
	inspection: number | null;
	rule: string;
	ts: number;
	message: string;
	side: 'upper' | 'lower' | null;
	value: number | null;
	pointTs: number[];
	lastTs: number;
	occurrences: number;
	returnedAt: number;
	acknowledgedAt: number;
	acknowledgedBy: string;
	causeCode: string;
	actionCode: string;
	ackNote: string | null;
	clearedAt: number;
	deviation: number | null;
	lot: number;
	run: number;
}

/** What a deviation was opened about (tests and docs; the row has no such column). */
export type HistoryDeviationKind =
	| 'missed-inspection'
	| 'nonconforming-result'
	| 'spec-alarm'
	| 'spc-alarm'
	| 'certification'
	| 'rejected-lot'
	| 'plant';

export type HistoryDeviationStatus =
	'open' | 'contained' | 'investigated' | 'actions' | 'effectiveness' | 'closed';

export type HistorySeverity = 'minor' | 'major' | 'critical';

/**
 * A deviation with its workflow (schema/production.ts): every step's time and person is set
 * exactly when the step was reached before `now`, and `status` is the last step reached.
 */
export interface HistoryDeviation {
	code: string;
	title: string;
	description: string;
	kind: HistoryDeviationKind;
	lot: number | null;
	alarm: number | null;
	inspection: number | null;
	line: string | null;
	severity: HistorySeverity;
	status: HistoryDeviationStatus;
	owner: string;
	/** When the whole deviation should be closed (overdue when open past it). */
	dueAt: number;
	containment: string | null;
	containedAt: number | null;
	containedBy: string | null;
	rootCause: string | null;
	investigatedAt: number | null;
	investigatedBy: string | null;
	effectivenessDueAt: number | null;
	effectivenessResult: string | null;
	effective: boolean | null;
	effectivenessCheckedAt: number | null;
	effectivenessCheckedBy: string | null;
	/** Steps reached + 1 (open 1 … closed 6). */
	revision: number;
	openedBy: string;
	openedAt: number;
	closedAt: number | null;
	closedBy: string | null;
	updatedAt: number;
}

/** A corrective or preventive action of a deviation (table capa). */
export interface HistoryCapa {
	code: string;
	/** Index into `deviations`. */
	deviation: number;
	kind: 'corrective' | 'preventive';
	description: string;
	owner: string;
	dueAt: number;
	status: 'open' | 'done' | 'cancelled';
	outcome: string | null;
	doneAt: number | null;
	doneBy: string | null;
	createdBy: string;
	createdAt: number;
}

export type HistoryChangeKind =
	'process-version' | 'spec-limit' | 'control-limit' | 'rule-set' | 'sampling-plan';
export type HistoryChangeStatus =
	'draft' | 'impact' | 'review' | 'approved' | 'implemented' | 'closed' | 'rejected' | 'withdrawn';

/** A change request (table change_request) with its step times. */
export interface HistoryChangeRequest {
	code: string;
	kind: HistoryChangeKind;
	title: string;
	justification: string;
	status: HistoryChangeStatus;
	characteristic: string | null;
	product: string | null;
	/** The process version the change starts from (product code + version), if any. */
	processVersion: { product: string; version: number } | null;
	/** The process version an implemented change created (only the v2 changes: they exist). */
	resultProcessVersion: { product: string; version: number } | null;
	line: string;
	proposal: Record<string, unknown>;
	/** Impact analysis as computed on entering impact (null while draft). */
	impact: {
		products: string[];
		characteristics: string[];
		openLots: string[];
		computedAt: string;
	} | null;
	effectiveFrom: number | null;
	revision: number;
	author: string;
	approver: string | null;
	openedAt: number;
	impactAt: number | null;
	reviewAt: number | null;
	approvedAt: number | null;
	implementedAt: number | null;
	closedAt: number | null;
	rejectedAt: number | null;
	withdrawnAt: number | null;
	decisionReason: string | null;
	updatedAt: number;
}

/** A plant-wide KPI target (table kpi_target, site null); units in docs/demo-history.md. */
export interface HistoryKpiTarget {
	kpi: string;
	target: number;
	better: 'higher' | 'lower';
	unit: string;
}

/** Quality staff without a password (they author, approve, own and decide; cannot sign in). */
export interface HistoryStaff {
	username: string;
	fullName: string;
	role: 'quality-engineer' | 'qa-reviewer';
}

export interface HistoryShipment {
	code: string;
	lot: number;
	customer: string;
	quantity: number;
	shippedAt: number;
}

export interface HistorySummary {
	lot: number;
	characteristic: string;
	count: number;
	min: number;
	max: number;
	mean: number;
	sd: number;
	histogram: { lo: number; hi: number; counts: number[] };
	computedAt: number;
}

export interface DemoHistory {
	now: number;
	seed: number;
	from: number;
	customers: HistoryCustomer[];
	products: HistoryProduct[];
	processVersions: HistoryProcessVersion[];
	suppliers: HistorySupplier[];
	materials: HistoryMaterial[];
	materialLots: HistoryMaterialLot[];
	people: HistoryPerson[];
	certifications: HistoryCertification[];
	inspectionPlans: HistoryInspectionPlan[];
	lots: HistoryLot[];
	runs: HistoryRun[];
	consumption: HistoryConsumption[];
	inspections: HistoryInspection[];
	alarms: HistoryAlarm[];
	deviations: HistoryDeviation[];
	capas: HistoryCapa[];
	shipments: HistoryShipment[];
	summaries: HistorySummary[];
	staff: HistoryStaff[];
	changeRequests: HistoryChangeRequest[];
	kpiTargets: HistoryKpiTarget[];
	/** The operation each machine performs (certifications and runs name it). */
	operations: Record<string, string>;
}

export interface DemoHistoryOptions {
	now: Date | number;
	seed?: number;
	plant?: DemoPlant;
	/** Days of history (default HISTORY_DAYS). */
	days?: number;
}

// ------------------------------------------------------------------------------------------
// Master data
// ------------------------------------------------------------------------------------------

export const HISTORY_CUSTOMERS: HistoryCustomer[] = [
	{ code: 'AVALON', name: 'Avalon Vascular Inc. (catheters)' },
	{ code: 'BRIGHTWATER', name: 'Brightwater Infusion Systems GmbH (infusion)' },
	{ code: 'CORRIB', name: 'Corrib Diagnostics Ltd (diagnostics)' }
];

/** Grams of resin per part, kilograms consumed: perPart is in the material's unit. */
export const HISTORY_PRODUCTS: HistoryProduct[] = [
	{
		code: 'CH-7500-PC',
		name: 'Luer catheter hub, 7.5 mm, clear polycarbonate',
		customer: 'AVALON',
		line: 'L1',
		ratePerHour: 6000,
		plannedQty: [24_000, 40_000],
		scrap: [0.004, 0.02],
		rework: [0, 0],
		bom: {
			IM1: [{ material: 'PC-RX2530', perPart: 0.00155 }],
			IM2: [{ material: 'PC-RX2530', perPart: 0.00155 }],
			IM3: [{ material: 'PC-RX2530', perPart: 0.00155 }]
		}
	},
	{
		code: 'SR-4100-PX',
		name: 'Catheter strain-relief sleeve, blue PEBAX 7233',
		customer: 'AVALON',
		line: 'L1',
		ratePerHour: 6000,
		plannedQty: [24_000, 36_000],
		scrap: [0.006, 0.025],
		rework: [0, 0],
		bom: Object.fromEntries(
			['IM1', 'IM2', 'IM3'].map((m) => [
				m,
				[
					{ material: 'PEBAX-7233', perPart: 0.0009 },
					{ material: 'MB-BLUE', perPart: 0.000018 }
				]
			])
		)
	},
	{
		code: 'IV-2200-AS',
		name: 'Infusion extension set, Luer-lock, sterile pouch',
		customer: 'BRIGHTWATER',
		line: 'L2',
		ratePerHour: 620,
		plannedQty: [2_400, 4_000],
		scrap: [0.003, 0.015],
		rework: [0, 0.008],
		bom: {
			UV1: [{ material: 'ADH-1161M', perPart: 0.015 }],
			TQ1: [
				{ material: 'CAP-LUER', perPart: 1 },
				{ material: 'SEAL-SIL', perPart: 1 }
			],
			SP1: [{ material: 'POUCH-TYV', perPart: 1 }]
		}
	},
	{
		code: 'DX-3300-AS',
		name: 'Diagnostic sample-port cap assembly, sterile pouch',
		customer: 'CORRIB',
		line: 'L2',
		ratePerHour: 600,
		plannedQty: [2_400, 3_600],
		scrap: [0.003, 0.012],
		rework: [0, 0.006],
		bom: {
			UV1: [{ material: 'ADH-1161M', perPart: 0.01 }],
			TQ1: [{ material: 'SEAL-SIL', perPart: 1 }],
			SP1: [{ material: 'POUCH-TYV', perPart: 1 }]
		}
	}
];

export const HISTORY_SUPPLIERS: HistorySupplier[] = [
	{ code: 'COVESTRO', name: 'Covestro AG', approved: true },
	{ code: 'ARKEMA', name: 'Arkema S.A.', approved: true },
	{ code: 'CLARIANT', name: 'Clariant Masterbatches', approved: true },
	{ code: 'DYMAX', name: 'Dymax Europe GmbH', approved: true },
	{ code: 'FREUDENBERG', name: 'Freudenberg Medical', approved: true },
	{ code: 'AMCOR', name: 'Amcor Flexibles Medical', approved: true },
	// Not on the approved supplier list: its one delivery was rejected at incoming inspection.
	{ code: 'PACPOLY', name: 'Pacific Polymer Traders (not approved)', approved: false }
];

export const HISTORY_MATERIALS: HistoryMaterial[] = [
	{
		code: 'PC-RX2530',
		name: 'Polycarbonate Makrolon Rx2530, medical grade',
		unit: 'kg',
		supplier: 'COVESTRO',
		everyDays: 9,
		nominal: 1000,
		shelfDays: 730
	},
	{
		code: 'PEBAX-7233',
		name: 'PEBAX 7233 SA 01 MED resin',
		unit: 'kg',
		supplier: 'ARKEMA',
		everyDays: 14,
		nominal: 500,
		shelfDays: 730
	},
	{
		code: 'MB-BLUE',
		name: 'Blue colour masterbatch, PEBAX carrier (2 %)',
		unit: 'kg',
		supplier: 'CLARIANT',
		everyDays: 45,
		nominal: 25,
		shelfDays: 540
	},
	{
		code: 'ADH-1161M',
		name: 'UV-cure medical adhesive 1161-M',
		unit: 'g',
		supplier: 'DYMAX',
		everyDays: 30,
		nominal: 5000,
		shelfDays: 270
	},
	{
		code: 'SEAL-SIL',
		name: 'Silicone sealing ring 4 × 1 mm',
		unit: '{each}',
		supplier: 'FREUDENBERG',
		everyDays: 14,
		nominal: 50_000,
		shelfDays: null
	},
	{
		code: 'CAP-LUER',
		name: 'Luer-lock end cap, PP',
		unit: '{each}',
		supplier: 'FREUDENBERG',
		everyDays: 21,
		nominal: 50_000,
		shelfDays: null
	},
	{
		code: 'POUCH-TYV',
		name: 'Tyvek/film peel pouch 100 × 250 mm',
		unit: '{each}',
		supplier: 'AMCOR',
		everyDays: 14,
		nominal: 50_000,
		shelfDays: 1095
	}
];

/** Operations performed by each demo-plant machine (certifications name them; plant.ts). */
export const MACHINE_OPERATIONS: Record<string, string> = Object.fromEntries(
	DEMO_PLANT.lines.flatMap((l) =>
		l.machines.flatMap((m) => (m.operation ? [[m.code, m.operation] as const] : []))
	)
);

/**
 * Operators without a password (they cannot sign in; runs and inspections name them). Demo
 * users (src/lib/server/auth/users.ts DEMO_USERS) take part too: `operator` runs machines on
 * both lines, `lead` covers both lines, `qe` and `qa` decide material lots and lots.
 */
export const HISTORY_PEOPLE: HistoryPerson[] = [
	{ username: 'aoife.byrne', fullName: 'Aoife Byrne', line: 'L1' },
	{ username: 'ciaran.walsh', fullName: 'Ciarán Walsh', line: 'L1' },
	{ username: 'tomasz.nowak', fullName: 'Tomasz Nowak', line: 'L1' },
	{ username: 'eoin.doyle', fullName: 'Eoin Doyle', line: 'L1' },
	{ username: 'niamh.kelly', fullName: 'Niamh Kelly', line: 'L2' },
	{ username: 'darragh.murphy', fullName: 'Darragh Murphy', line: 'L2' },
	{ username: 'priya.nair', fullName: 'Priya Nair', line: 'L2' },
	{ username: 'marta.silva', fullName: 'Marta Silva', line: 'L2' },
	{ username: 'liam.fitzgerald', fullName: 'Liam Fitzgerald', line: 'L2' },
	{ username: 'siobhan.oconnor', fullName: "Siobhán O'Connor", line: 'L2' }
];

/** Demo users this history names (they must exist before seeding). */
export const HISTORY_DEMO_USERS = [
	'admin',
	'operator',
	'lead',
	'qe',
	'qa',
	'manager',
	'customer'
] as const;

/**
 * A second quality engineer and a second QA reviewer, so change requests have authors and
 * approvers who are different people and lot decisions are not all one person's. No password.
 */
export const HISTORY_STAFF: HistoryStaff[] = [
	{ username: 'orla.brennan', fullName: 'Orla Brennan', role: 'quality-engineer' },
	{ username: 'declan.hayes', fullName: 'Declan Hayes', role: 'qa-reviewer' }
];

/**
 * Plant-wide KPI targets of a medical-device contract manufacturer. Units: fractions for
 * rates and yields (0.97 = 97 %), hours for release time (median completion → decision),
 * days for change times (median) and CAPA aging (mean age of open deviations and actions),
 * alarms per 1000 h of lot run time for alarms per line.
 */
export const HISTORY_KPI_TARGETS: HistoryKpiTarget[] = [
	{ kpi: 'batch-yield', target: 0.975, better: 'higher', unit: 'fraction' },
	{ kpi: 'first-pass-yield', target: 0.97, better: 'higher', unit: 'fraction' },
	{ kpi: 'release-time', target: 48, better: 'lower', unit: 'hours' },
	{ kpi: 'change-approval-time', target: 14, better: 'lower', unit: 'days' },
	{ kpi: 'change-close-time', target: 45, better: 'lower', unit: 'days' },
	{ kpi: 'rework-rate', target: 0.005, better: 'lower', unit: 'fraction' },
	{ kpi: 'scrap-rate', target: 0.015, better: 'lower', unit: 'fraction' },
	{ kpi: 'on-time-inspections', target: 0.98, better: 'higher', unit: 'fraction' },
	{ kpi: 'record-completeness', target: 0.99, better: 'higher', unit: 'fraction' },
	{ kpi: 'alarms-per-line', target: 150, better: 'lower', unit: 'per 1000 run hours' },
	{ kpi: 'capa-aging', target: 30, better: 'lower', unit: 'days' },
	{ kpi: 'plan-achievement', target: 0.9, better: 'higher', unit: 'fraction' }
];

/** The deliberate certification exceptions (docs/demo-history.md). */
export const CERT_EXCEPTIONS = {
	/** Expired 20 days ago and not renewed; ran one LT1 run two days after it lapsed. */
	expired: { username: 'darragh.murphy', operation: 'leak-test', expiredDaysAgo: 20 },
	/** Revoked 40 days ago after a deviation; no run of that operation since. */
	revoked: { username: 'eoin.doyle', operation: 'moulding', revokedDaysAgo: 40 },
	/** Still current, expiring within 14 days: days until valid_to. */
	expiringSoon: [
		{ username: 'niamh.kelly', operation: 'uv-bonding', days: 4 },
		{ username: 'tomasz.nowak', operation: 'moulding', days: 9 },
		{ username: 'priya.nair', operation: 'pouch-sealing', days: 12 }
	]
} as const;

/**
 * Cause and action codes the historical acknowledgements use: the default lists of
 * src/lib/server/alarms/codes.ts (DEFAULT_ALARM_CODES, seeded at every start — a unit test
 * keeps these in them). Repeated here because this module is pure and imports no server code.
 */
export const HISTORY_CAUSES = [
	'TOOL-WEAR',
	'MATERIAL',
	'SETUP',
	'GAUGE',
	'OPERATOR',
	'ENVIRONMENT',
	'NO-CAUSE'
] as const;
export const HISTORY_ACTIONS = [
	'ADJUST',
	'TOOL-CHANGE',
	'RECALIBRATE',
	'CONTAIN',
	'MONITOR',
	'INSPECT'
] as const;
/** Rule of a missed-inspection alarm (src/lib/server/production/inspection-sweep.ts). */
export const MISSED_INSPECTION_RULE = 'inspection-missed';

/** Inspection plans of each product, by line (characteristics of that line). */
function plansFor(product: HistoryProduct): HistoryInspectionPlan[] {
	if (product.line === 'L1') {
		return [
			plan(product, 'First-off hub diameter', 'IM1.HUB.OD', 'lot-start', null, null, 30),
			plan(product, 'In-process hub length', 'IM2.HUB.LEN', 'every-n-parts', 6000, null, 20),
			plan(product, 'Visual check of moulded parts', null, 'every-t-minutes', null, 120, 15),
			plan(product, 'Last-off bore diameter', 'IM3.BORE.ID', 'lot-end', null, null, 30)
		];
	}
	return [
		plan(product, 'First-off bond pull test', 'UV1.BOND.STR', 'lot-start', null, null, 30),
		plan(product, 'Seal strength check', 'SP1.SEAL.STR', 'every-n-parts', 600, null, 20),
		plan(product, 'Pouch and label visual check', null, 'every-t-minutes', null, 120, 15),
		plan(product, 'Last-off leak test verification', 'LT1.LEAK.RATE', 'lot-end', null, null, 30)
	];
}

function plan(
	product: HistoryProduct,
	name: string,
	characteristic: string | null,
	trigger: HistoryTrigger,
	everyParts: number | null,
	everyMinutes: number | null,
	graceMinutes: number
): HistoryInspectionPlan {
	return {
		product: product.code,
		name,
		characteristic,
		trigger,
		everyParts,
		everyMinutes,
		graceMinutes
	};
}

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

type Rand = () => number;

function between(rand: Rand, lo: number, hi: number): number {
	return lo + (hi - lo) * rand();
}

function intBetween(rand: Rand, lo: number, hi: number): number {
	return Math.floor(between(rand, lo, hi + 1));
}

function pick<T>(rand: Rand, xs: readonly T[]): T {
	return xs[Math.floor(rand() * xs.length)];
}

function minuteFloor(ms: number): number {
	return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

function round(x: number, decimals: number): number {
	const f = 10 ** decimals;
	return Math.round(x * f) / f;
}

function yymmdd(ms: number): string {
	return new Date(ms).toISOString().slice(2, 10).replaceAll('-', '');
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 through erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
	const x = Math.abs(z) / Math.SQRT2;
	const t = 1 / (1 + 0.3275911 * x);
	const poly =
		t *
		(0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
	const erf = 1 - poly * Math.exp(-x * x);
	return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Spread `total` over weights as integers that sum exactly to `total`: each gets the floor of
 * its share, the remainder goes to the largest shares, one each (largest remainder, by weight).
 */
export function apportion(total: number, weights: readonly number[]): number[] {
	const n = weights.length;
	const out = new Array<number>(n).fill(0);
	if (n === 0) return out;
	let sum = 0;
	for (let i = 0; i < n; i++) sum += weights[i];
	if (!(sum > 0)) {
		out[0] = total;
		return out;
	}
	let given = 0;
	for (let i = 0; i < n; i++) {
		out[i] = Math.floor((weights[i] / sum) * total);
		given += out[i];
	}
	let left = total - given;
	if (left > 0) {
		const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => weights[b] - weights[a]);
		for (let k = 0; left > 0; k = (k + 1) % n, left--) out[order[k]]++;
	}
	return out;
}

/** Characteristics of a line, with their machine code. */
function lineCharacteristics(line: DemoLine): { machine: string; c: DemoCharacteristic }[] {
	return line.machines.flatMap((m) => m.characteristics.map((c) => ({ machine: m.code, c })));
}

/** Mean and SD of one raw sample of a characteristic in control. */
function rawMoments(c: DemoCharacteristic): { mean: number; sd: number } {
	if (c.kind === 'variable') return { mean: c.process.mean, sd: c.process.sigma };
	// Attribute: a raw sample is the count in one inspected lot of `subgroupSize` units.
	const lambda =
		c.chart === 'c'
			? c.process.mean
			: c.chart === 'u' || c.chart === 'p' || c.chart === 'np'
				? c.process.mean * c.subgroupSize
				: c.process.mean;
	return { mean: lambda, sd: Math.sqrt(Math.max(lambda, 0.01)) };
}

/** The rules a characteristic's rule set can raise (what historical SPC alarms name). */
function rulesOf(c: DemoCharacteristic): string[] {
	switch (c.rules) {
		case 'nelson-all':
			return ['nelson1', 'nelson2', 'nelson3', 'nelson5', 'nelson6'];
		case 'western-electric':
			return ['we1', 'we2', 'we3', 'we4'];
		case 'aiag':
			return ['nelson1', 'nelson2', 'nelson3'];
		default:
			return ['nelson1'];
	}
}

const RULE_TEXT: Record<string, string> = {
	nelson1: 'Nelson 1: a point beyond the control limits',
	nelson2: 'Nelson 2: nine points in a row on one side of the centre line',
	nelson3: 'Nelson 3: six points in a row steadily increasing or decreasing',
	nelson5: 'Nelson 5: two of three points beyond 2 sigma on one side',
	nelson6: 'Nelson 6: four of five points beyond 1 sigma on one side',
	we1: 'Western Electric 1: a point beyond 3 sigma',
	we2: 'Western Electric 2: two of three points beyond 2 sigma',
	we3: 'Western Electric 3: four of five points beyond 1 sigma',
	we4: 'Western Electric 4: eight points in a row on one side'
};

const PATTERN_POINTS: Record<string, number> = {
	nelson1: 1,
	nelson2: 9,
	nelson3: 6,
	nelson5: 3,
	nelson6: 5,
	we1: 1,
	we2: 3,
	we3: 5,
	we4: 8
};

// ------------------------------------------------------------------------------------------
// The generator
// ------------------------------------------------------------------------------------------

/** The demo plant's year of history ending at `now` (see the file comment). */
export function generateDemoHistory(options: DemoHistoryOptions): DemoHistory {
	const now = typeof options.now === 'number' ? options.now : options.now.getTime();
	const seed = options.seed ?? 1;
	const plant = options.plant ?? DEMO_PLANT;
	const days = options.days ?? HISTORY_DAYS;
	const from = minuteFloor(now - days * DAY_MS);
	// One stream per concern, so adding records of one kind does not reshuffle the others.
	const stream = (name: string): Rand => mulberry32(fnv1a(name) ^ Math.imul(seed, 0x9e3779b1));

	const lines = new Map(plant.lines.map((l) => [l.code, l]));
	const products = HISTORY_PRODUCTS.filter((p) => lines.has(p.line));
	const charByCode = new Map(
		plant.lines.flatMap((l) => lineCharacteristics(l)).map((x) => [x.c.code, x])
	);

	// --- process versions ---------------------------------------------------------------
	const v1From = minuteFloor(now - (days + 10) * DAY_MS);
	const v2From = minuteFloor(now - V2_AGE_DAYS * DAY_MS);
	const processVersions: HistoryProcessVersion[] = products.flatMap((p) => {
		const chars = lineCharacteristics(lines.get(p.line) as DemoLine);
		const spec = (c: DemoCharacteristic, widen: number): HistorySpec => {
			const { lsl = null, target = null, usl = null } = c.spec;
			const t = target ?? null;
			const w = (x: number | null) =>
				x === null || t === null ? x : round(t + (x - t) * widen, c.decimals + 1);
			return { characteristic: c.code, lsl: w(lsl), target: t, usl: w(usl) };
		};
		// v1 had 20 % wider dimensional tolerances; v2 tightened them after the customer's PPAP.
		const isDimension = (c: DemoCharacteristic) => c.unit === 'mm' && c.code.includes('.HUB.');
		return [
			{
				product: p.code,
				version: 1,
				status: 'superseded' as const,
				effectiveFrom: v1From,
				description: 'Initial validated process (IQ/OQ/PQ).',
				approvedBy: 'qa',
				approvedAt: v1From - 2 * DAY_MS,
				createdBy: 'qe',
				specs: chars.map(({ c }) => spec(c, isDimension(c) ? 1.2 : 1))
			},
			{
				product: p.code,
				version: 2,
				status: 'effective' as const,
				effectiveFrom: v2From,
				description:
					'Hub dimensional tolerances tightened to the customer drawing after PPAP; process unchanged.',
				approvedBy: 'qa',
				approvedAt: v2From - 3 * DAY_MS,
				createdBy: 'qe',
				specs: chars.map(({ c }) => spec(c, 1))
			}
		];
	});
	const specOf = (product: string, version: number, characteristic: string): HistorySpec => {
		const pv = processVersions.find((v) => v.product === product && v.version === version);
		const s = pv?.specs.find((x) => x.characteristic === characteristic);
		if (!s) throw new Error(`no spec for ${product} v${version} ${characteristic}`);
		return s;
	};

	// --- people and certifications ------------------------------------------------------
	const people = HISTORY_PEOPLE.filter((p) => lines.has(p.line));
	const certifications = generateCertifications(stream('certifications'), plant, people, now, from);

	// --- material lots (receipts; quantities are fixed after consumption is known) -------
	const materialLots = generateMaterialLotReceipts(stream('materials'), now, from);
	const validatedByMaterial = new Map<string, HistoryMaterialLot[]>();
	for (const ml of materialLots) {
		if (ml.status !== 'validated') continue;
		const list = validatedByMaterial.get(ml.material) ?? [];
		list.push(ml);
		validatedByMaterial.set(ml.material, list);
	}
	for (const list of validatedByMaterial.values())
		list.sort((a, b) => (a.decidedAt as number) - (b.decidedAt as number));
	/** The newest lot of a material validated at or before `at`. */
	const materialLotAt = (material: string, at: number): HistoryMaterialLot => {
		const list = validatedByMaterial.get(material) ?? [];
		let found: HistoryMaterialLot | undefined;
		for (const ml of list) {
			if ((ml.decidedAt as number) <= at) found = ml;
			else break;
		}
		if (!found) throw new Error(`no validated lot of ${material} at ${new Date(at).toISOString()}`);
		return found;
	};

	// --- lots, runs, consumption ---------------------------------------------------------
	const lots: HistoryLot[] = [];
	const runs: HistoryRun[] = [];
	const consumption: HistoryConsumption[] = [];
	const lotRand = stream('lots');
	const runRand = stream('runs');
	// Own stream: adding the plan slip left every other lot draw where it was.
	const planRand = stream('plan');
	const exceptionAt = now - (CERT_EXCEPTIONS.expired.expiredDaysAgo - 2) * DAY_MS;
	let exceptionDone = false;

	for (const line of plant.lines) {
		const lineProducts = products.filter((p) => p.line === line.code);
		if (lineProducts.length === 0) continue;
		// Backwards from the running lot: [start, plannedEnd] intervals, newest first.
		const slots: { start: number; end: number; product: HistoryProduct; running: boolean }[] = [];
		let product = lineProducts[0];
		let runningStart = minuteFloor(now - between(lotRand, 1, 4) * HOUR_MS);
		const durationFor = (p: HistoryProduct, qty: number) =>
			minuteFloor((qty / p.ratePerHour) * HOUR_MS * between(lotRand, 1.03, 1.12));
		{
			const dur = durationFor(product, plannedQty(lotRand, product));
			// Keep the running lot's end in the future (a long lot, or one just begun).
			if (runningStart + dur <= now + 30 * MINUTE_MS) runningStart = now - dur / 3;
			runningStart = minuteFloor(runningStart);
			slots.push({ start: runningStart, end: runningStart + dur, product, running: true });
		}
		let cursor = runningStart;
		while (cursor > from) {
			const gap = minuteFloor(between(lotRand, 30, 100) * MINUTE_MS);
			// A product campaign lasts a few lots; then the line changes over.
			if (lotRand() < 0.22) product = pick(lotRand, lineProducts);
			const qty = plannedQty(lotRand, product);
			const dur = durationFor(product, qty);
			const end = cursor - gap;
			const start = end - dur;
			if (start < from) break;
			slots.push({ start, end, product, running: false });
			cursor = start;
		}
		slots.reverse();
		const seqByDay = new Map<string, number>();
		for (const slot of slots) {
			const day = yymmdd(slot.start);
			const n = (seqByDay.get(day) ?? 0) + 1;
			seqByDay.set(day, n);
			const code = `${line.code}-${day}-${String(n).padStart(2, '0')}`;
			const p = slot.product;
			const qty = roundQty(
				lotRand,
				p,
				Math.round(((slot.end - slot.start) / HOUR_MS) * p.ratePerHour)
			);
			const lotIndex = lots.length;
			const version = slot.start >= v2From ? 2 : 1;
			const completedAt = slot.running ? null : slot.end;
			// Parts made: all of them for a finished lot, the elapsed share for the running one.
			const share = slot.running ? (now - slot.start) / (slot.end - slot.start) : 1;
			const made = Math.max(1, Math.round(qty * between(lotRand, 0.975, 1.015) * share));
			const scrap = Math.round(made * between(lotRand, p.scrap[0], p.scrap[1]));
			const rework = Math.round(made * between(lotRand, p.rework[0], p.rework[1]));
			lots.push({
				code,
				product: p.code,
				line: line.code,
				version,
				plannedQty: qty,
				goodQty: made - scrap - rework,
				scrapQty: scrap,
				reworkQty: rework,
				status: slot.running ? 'running' : 'completed',
				plannedStart:
					slot.start -
					minuteFloor(between(lotRand, 0, 20) * MINUTE_MS) -
					(slot.running ? 0 : planSlip(planRand)),
				startedAt: slot.start,
				completedAt,
				reviewStartedAt: null,
				decidedAt: null,
				decidedBy: null,
				revision: slot.running ? 2 : 3
			});
			// Runs: one per machine, staggered starts, ending before the lot completes.
			const machines = line.machines;
			// Operators already on this lot (each machine gets its own when enough are certified).
			const busy = new Set<string>();
			const partsPerRun =
				line.code === 'L1'
					? apportion(
							made,
							machines.map(() => between(runRand, 0.9, 1.1))
						)
					: machines.map(() => made);
			machines.forEach((m, i) => {
				const operation = MACHINE_OPERATIONS[m.code] ?? 'operation';
				const startedAt = slot.running
					? Math.min(slot.start + i * 3 * MINUTE_MS, now - 5 * MINUTE_MS)
					: slot.start + minuteFloor(i * between(runRand, 1, 4) * MINUTE_MS);
				const endedAt = slot.running
					? null
					: slot.end - minuteFloor(between(runRand, 5, 20) * MINUTE_MS);
				const runIndex = runs.length;
				let operator: string;
				let cert: number | null;
				let exception: HistoryRun['exception'];
				const wantException =
					!exceptionDone &&
					!slot.running &&
					m.code === 'LT1' &&
					startedAt >= exceptionAt &&
					startedAt < exceptionAt + 3 * DAY_MS;
				if (wantException) {
					operator = CERT_EXCEPTIONS.expired.username;
					cert = null;
					exception = 'expired-certification';
					exceptionDone = true;
				} else if (slot.running && i === 0) {
					// The demo operator runs the first machine of every line's running lot.
					operator = 'operator';
					cert = certIndexAt(certifications, operator, operation, line.code, startedAt);
				} else {
					const eligible = eligibleAt(certifications, operation, line.code, startedAt).filter(
						(c) => c.username !== 'lead' || runRand() < 0.1
					);
					const free = eligible.filter((c) => !busy.has(c.username));
					const chosen = pick(runRand, free.length > 0 ? free : eligible);
					if (!chosen) {
						throw new Error(`nobody certified for ${operation} on ${line.code} at ${startedAt}`);
					}
					operator = chosen.username;
					cert = chosen.index;
				}
				busy.add(operator);
				if (cert === null && !exception) {
					throw new Error(`${operator} not certified for ${operation} at ${startedAt}`);
				}
				const bom = p.bom[m.code] ?? [];
				const used = bom.map((b) => ({ b, ml: materialLotAt(b.material, startedAt) }));
				const exceptionCert = exception
					? certifications.findIndex(
							(c) => c.username === operator && c.operation === operation && c.line === line.code
						)
					: -1;
				runs.push({
					lot: lotIndex,
					machine: m.code,
					operator,
					operation,
					startedAt,
					endedAt,
					parts: partsPerRun[i],
					certification: cert,
					checks: {
						certification: {
							certification: cert ?? (exceptionCert >= 0 ? exceptionCert : null),
							operation,
							standing: exception ? 'expired' : 'current',
							validTo:
								cert !== null
									? certifications[cert].validTo
									: exceptionCert >= 0
										? certifications[exceptionCert].validTo
										: null
						},
						materials: used.map(({ ml }) => ({
							materialLot: ml.code,
							status: 'validated' as const,
							decidedAt: ml.decidedAt as number
						}))
					},
					startedBy: operator,
					...(exception ? { exception } : {})
				});
				for (const { b, ml } of used) {
					consumption.push({
						lot: lotIndex,
						run: runIndex,
						materialLot: ml.code,
						quantity: round(partsPerRun[i] * b.perPart, ml.material.startsWith('PC') ? 2 : 3),
						consumedAt: startedAt
					});
				}
			});
		}
		// One planned lot after the running one.
		const running = slots[slots.length - 1];
		const nextProduct = running.product;
		const nextQty = plannedQty(lotRand, nextProduct);
		const nextStart = minuteFloor(running.end + 45 * MINUTE_MS);
		const day = yymmdd(nextStart);
		const n = (seqByDay.get(day) ?? 0) + 1;
		seqByDay.set(day, n);
		lots.push({
			code: `${line.code}-${day}-${String(n).padStart(2, '0')}`,
			product: nextProduct.code,
			line: line.code,
			version: null,
			plannedQty: nextQty,
			goodQty: 0,
			scrapQty: 0,
			reworkQty: 0,
			status: 'planned',
			plannedStart: nextStart,
			startedAt: null,
			completedAt: null,
			reviewStartedAt: null,
			decidedAt: null,
			decidedBy: null,
			revision: 1
		});
	}

	// Material lot quantities: what was consumed plus a margin (unconsumed lots: nominal).
	const consumedBy = new Map<string, number>();
	for (const c of consumption)
		consumedBy.set(c.materialLot, (consumedBy.get(c.materialLot) ?? 0) + c.quantity);
	const qtyRand = stream('material-quantities');
	for (const ml of materialLots) {
		const used = consumedBy.get(ml.code) ?? 0;
		const material = HISTORY_MATERIALS.find((m) => m.code === ml.material) as HistoryMaterial;
		const step = material.unit === 'kg' ? 25 : material.unit === 'g' ? 500 : 1000;
		ml.quantity =
			used > 0 ? Math.ceil((used * between(qtyRand, 1.02, 1.15)) / step) * step : material.nominal;
	}

	// --- inspections, deviations, statuses, alarms, shipments, summaries -----------------
	const inspectionPlans = products.flatMap(plansFor);
	const inspections: HistoryInspection[] = [];
	const deviations: HistoryDeviation[] = [];
	const alarms: HistoryAlarm[] = [];
	const shipments: HistoryShipment[] = [];
	const summaries: HistorySummary[] = [];
	const inspRand = stream('inspections');
	const alarmRand = stream('alarms');
	const shipRand = stream('shipments');
	const sumRand = stream('summaries');
	const statusRand = stream('statuses');
	const releaseRand = stream('release-times');
	const alarmKeys = new Set<string>();
	const runsByLot = new Map<number, number[]>();
	runs.forEach((r, i) => {
		const list = runsByLot.get(r.lot) ?? [];
		list.push(i);
		runsByLot.set(r.lot, list);
	});
	const ackersFor = (lineCode: string, at: number) =>
		['lead', 'qe'].filter((u) =>
			certifications.some(
				(c) =>
					c.username === u &&
					c.line === lineCode &&
					c.validFrom <= at &&
					c.validTo > at &&
					(c.revokedAt === null || c.revokedAt > at)
			)
		);
	/** Lot-level deviation requests, turned into deviations in time order below. */
	const pendingDeviations: PendingDeviation[] = [];

	lots.forEach((lot, lotIndex) => {
		if (lot.startedAt === null) return;
		const lotRuns = (runsByLot.get(lotIndex) ?? []).map((i) => runs[i]);
		const runIndexOf = (machine: string) =>
			(runsByLot.get(lotIndex) ?? []).find((i) => runs[i].machine === machine) ??
			(runsByLot.get(lotIndex) ?? [])[0];
		const start = lot.startedAt;
		const end = lot.completedAt ?? now;
		const made = lot.goodQty + lot.scrapQty + lot.reworkQty;
		const finished = lot.completedAt !== null;
		let failedInspection = false;

		// Inspections by plan.
		inspectionPlans.forEach((pl, planIndex) => {
			if (pl.product !== lot.product) return;
			const dues: number[] = [];
			if (pl.trigger === 'lot-start') dues.push(start);
			if (pl.trigger === 'lot-end' && finished) dues.push(end);
			if (pl.trigger === 'every-t-minutes') {
				const step = (pl.everyMinutes as number) * MINUTE_MS;
				for (let t = start + step; t < end; t += step) dues.push(t);
			}
			if (pl.trigger === 'every-n-parts') {
				const n = pl.everyParts as number;
				for (let k = n; k < made; k += n) dues.push(start + Math.round(((end - start) * k) / made));
			}
			const machine = pl.characteristic
				? (charByCode.get(pl.characteristic)?.machine ?? null)
				: null;
			const runIndex = machine ? runIndexOf(machine) : (runsByLot.get(lotIndex) ?? [])[0];
			const run = runs[runIndex];
			dues.forEach((dueAt, k) => {
				const grace = pl.graceMinutes * MINUTE_MS;
				const index = inspections.length;
				const inspector = run.operator;
				const x = pl.characteristic ? charByCode.get(pl.characteristic) : undefined;
				const spec = x ? specOf(lot.product, lot.version as number, x.c.code) : null;
				const measure = () => {
					if (!x || !spec) return { value: null, passed: true };
					const m = rawMoments(x.c);
					const value = round(m.mean + m.sd * standardNormal(inspRand), x.c.decimals);
					const passed =
						(spec.lsl === null || value >= spec.lsl) && (spec.usl === null || value <= spec.usl);
					return { value, passed };
				};
				const base: HistoryInspection = {
					lot: lotIndex,
					plan: planIndex,
					run: runIndex,
					seq: k + 1,
					dueAt,
					status: 'done',
					doneAt: null,
					doneBy: null,
					value: null,
					passed: null,
					note: null,
					suspectReason: null,
					confirmedBy: null,
					confirmedAt: null,
					deviation: null,
					kind: 'on-time'
				};
				if (dueAt > now - grace) {
					// Still within its grace period: open (only the running lot has these).
					if (dueAt <= now && !finished) {
						inspections.push({ ...base, status: 'due', kind: 'open' });
					} else if (dueAt <= now) {
						const doneAt = Math.min(now, dueAt + Math.round(between(inspRand, 1, 10) * MINUTE_MS));
						inspections.push({ ...base, doneAt, doneBy: inspector, ...measure() });
					}
					return;
				}
				const roll = inspRand();
				const old = dueAt < now - 3 * DAY_MS;
				if (old && roll < 0.0005) {
					inspections.push({ ...base, status: 'missed', kind: 'missed' });
					pendingDeviations.push({
						title: `Missed inspection: ${pl.name} #${k + 1} on lot ${lot.code}`,
						description:
							'The inspection was not recorded within its grace period. The parts made in the interval were re-inspected from retained samples; no nonconformity found.',
						kind: 'missed-inspection',
						lot: lotIndex,
						alarm: null,
						inspection: index,
						openedBy: 'lead',
						openedAt: dueAt + grace + Math.round(between(inspRand, 20, 120) * MINUTE_MS),
						onInspection: index
					});
					const at = dueAt + grace;
					const ackBy = pick(alarmRand, ackersFor(lot.line, at));
					const ackAt = at + Math.round(between(alarmRand, 5, 40) * MINUTE_MS);
					alarms.push({
						kind: 'inspection',
						characteristic: null,
						machine: run.machine,
						line: lot.line,
						inspection: index,
						rule: MISSED_INSPECTION_RULE,
						ts: at,
						message: `Inspection missed: ${pl.name} #${k + 1} (lot ${lot.code})`,
						side: null,
						value: null,
						pointTs: [],
						lastTs: at,
						occurrences: 1,
						returnedAt: ackAt,
						acknowledgedAt: ackAt,
						acknowledgedBy: ackBy,
						causeCode: 'OPERATOR',
						actionCode: 'INSPECT',
						ackNote: 'Inspector called to another station; retained parts checked.',
						clearedAt: ackAt,
						deviation: null,
						lot: lotIndex,
						run: runIndex
					});
					return;
				}
				if (old && x && roll < 0.0009) {
					// A result far outside spec, flagged suspect and confirmed by a second person.
					const m = rawMoments(x.c);
					const width =
						spec && spec.usl !== null && spec.lsl !== null ? spec.usl - spec.lsl : 6 * m.sd;
					const low = spec?.lsl ?? null;
					const value = round(
						low !== null ? low - width * between(inspRand, 1.2, 2) : m.mean + width * 2,
						x.c.decimals
					);
					const doneAt = dueAt + Math.round(between(inspRand, 2, 12) * MINUTE_MS);
					inspections.push({
						...base,
						doneAt,
						doneBy: inspector,
						value,
						passed: false,
						suspectReason: 'More than one spec width outside the specification.',
						confirmedBy: 'qe',
						confirmedAt: doneAt + Math.round(between(inspRand, 15, 90) * MINUTE_MS),
						note: 'Re-measured on a second gauge: result confirmed.',
						kind: 'suspect-confirmed'
					});
					failedInspection = true;
					pendingDeviations.push({
						title: `Confirmed nonconforming result: ${pl.name} on lot ${lot.code}`,
						description: `${x.c.name} measured ${value} ${x.c.unit}, outside the specification; confirmed by a second person. Lot rejected.`,
						kind: 'nonconforming-result',
						lot: lotIndex,
						alarm: null,
						inspection: index,
						openedBy: 'qe',
						openedAt: doneAt + 2 * HOUR_MS,
						onInspection: index
					});
					return;
				}
				const late = old && roll < 0.01;
				const doneAt = late
					? dueAt + grace + Math.round(between(inspRand, 3, 40) * MINUTE_MS)
					: dueAt + Math.round(between(inspRand, 0.5, pl.graceMinutes * 0.8) * MINUTE_MS);
				const result = measure();
				inspections.push({
					...base,
					doneAt,
					doneBy: inspector,
					...result,
					note: late ? 'Done late: line stop for a mould clean.' : null,
					kind: late ? 'late' : 'on-time'
				});
			});
		});

		// Historical SPC/spec alarms (none in the last day: the wall's live alarms are real).
		if (finished && end < now - ALARM_QUIET_MS) {
			const count = poissonSmall(alarmRand, 1.1);
			for (let a = 0; a < count; a++) {
				const runIndex = pick(alarmRand, runsByLot.get(lotIndex) ?? []);
				const run = runs[runIndex];
				const machine = lines.get(lot.line)?.machines.find((m) => m.code === run.machine);
				if (!machine) continue;
				const c = pick(alarmRand, machine.characteristics);
				const spec = alarmRand() < 0.04 && c.kind === 'variable';
				const rule = spec ? 'spec' : pick(alarmRand, rulesOf(c));
				const runEnd = run.endedAt as number;
				const pointMs = c.kind === 'attribute' ? 60_000 : c.samplingIntervalMs * c.subgroupSize;
				const points = spec ? 1 : (PATTERN_POINTS[rule] ?? 1);
				const ts = minuteFloor(
					between(alarmRand, run.startedAt + points * pointMs + MINUTE_MS, runEnd - HOUR_MS)
				);
				if (ts <= run.startedAt) continue;
				// (characteristic, rule, ts) is the alarm's unique key.
				const key = `${c.code}|${rule}|${ts}`;
				if (alarmKeys.has(key)) continue;
				alarmKeys.add(key);
				const m = rawMoments(c);
				const upper = alarmRand() < 0.5 || c.kind === 'attribute';
				const sigmaX = c.kind === 'variable' ? m.sd / Math.sqrt(c.subgroupSize) : m.sd;
				const value = round(
					spec
						? upper && c.spec.usl != null
							? c.spec.usl + m.sd * between(alarmRand, 0.2, 1)
							: (c.spec.lsl ?? m.mean) - m.sd * between(alarmRand, 0.2, 1)
						: m.mean + (upper ? 1 : -1) * sigmaX * between(alarmRand, 3.05, 3.8),
					c.decimals
				);
				const occurrences = 1 + Math.floor(alarmRand() * 3);
				const lastTs = ts + (occurrences - 1) * pointMs;
				const ackers = [...ackersFor(lot.line, ts), run.operator];
				const ackBy = pick(alarmRand, ackers);
				const ackAt = ts + Math.round(between(alarmRand, 1, 25) * MINUTE_MS);
				const returnedAt = Math.max(
					lastTs + pointMs,
					ts + Math.round(between(alarmRand, 3, 30) * MINUTE_MS)
				);
				const cause = pick(alarmRand, HISTORY_CAUSES);
				const action =
					cause === 'MATERIAL' || cause === 'SETUP' || cause === 'ENVIRONMENT'
						? 'ADJUST'
						: cause === 'TOOL-WEAR'
							? 'TOOL-CHANGE'
							: cause === 'GAUGE'
								? 'RECALIBRATE'
								: cause === 'NO-CAUSE'
									? 'MONITOR'
									: 'CONTAIN';
				const alarmIndex = alarms.length;
				alarms.push({
					kind: spec ? 'spec' : 'spc',
					characteristic: c.code,
					machine: machine.code,
					line: lot.line,
					inspection: null,
					rule,
					ts,
					message: spec
						? `${c.name} ${upper ? 'above the upper' : 'below the lower'} specification limit`
						: `${c.name}: ${RULE_TEXT[rule] ?? rule}`,
					side: upper ? 'upper' : 'lower',
					value,
					pointTs: Array.from({ length: points }, (_, j) => ts - (points - 1 - j) * pointMs),
					lastTs,
					occurrences,
					returnedAt,
					acknowledgedAt: ackAt,
					acknowledgedBy: ackBy,
					causeCode: cause,
					actionCode: action,
					ackNote: null,
					clearedAt: Math.max(ackAt, returnedAt),
					deviation: null,
					lot: lotIndex,
					run: runIndex
				});
				if (spec || alarmRand() < 0.03) {
					pendingDeviations.push({
						title: `${spec ? 'Out-of-spec' : 'SPC'} alarm on ${machine.code}: ${c.name} (lot ${lot.code})`,
						description: `Alarm raised at ${new Date(ts).toISOString()}; parts from the interval contained and re-inspected.`,
						kind: spec ? 'spec-alarm' : 'spc-alarm',
						lot: lotIndex,
						alarm: alarmIndex,
						inspection: null,
						openedBy: 'qe',
						openedAt: ackAt + 30 * MINUTE_MS,
						onAlarm: alarmIndex
					});
				}
			}
		}

		// The certification exception gets its deviation.
		for (const r of lotRuns) {
			if (r.exception !== 'expired-certification') continue;
			pendingDeviations.push({
				title: `Run on ${r.machine} by an operator whose certification had lapsed (lot ${lot.code})`,
				description: `${r.operator}'s ${r.operation} certification expired before this run started. The parts were 100 % leak-tested again by a certified operator; no leak found. Recertification scheduled.`,
				kind: 'certification',
				lot: lotIndex,
				alarm: null,
				inspection: null,
				openedBy: 'qe',
				openedAt: r.startedAt + 6 * HOUR_MS
			});
		}

		// Status after completion.
		if (finished) {
			const completedAt = lot.completedAt as number;
			const age = now - completedAt;
			const rejected = failedInspection || (statusRand() < 0.004 && age > 3 * DAY_MS);
			if (rejected && !failedInspection) {
				pendingDeviations.push({
					title: `Lot ${lot.code} rejected at review`,
					description:
						'Batch record review found the line clearance record incomplete at lot start; the lot was scrapped.',
					kind: 'rejected-lot',
					lot: lotIndex,
					alarm: null,
					inspection: null,
					openedBy: 'qa',
					openedAt: completedAt + 4 * HOUR_MS
				});
			}
			// The first version's draws stay, so the rejection rolls of later lots (and with them
			// the deviations and their numbers) are unchanged; the times come from `releaseRand`.
			const firstReviewAt = completedAt + Math.round(between(statusRand, 0.5, 4) * HOUR_MS);
			between(statusRand, 4, 36);
			if ((age < REVIEW_WINDOW_MS || firstReviewAt > now) && firstReviewAt <= now) statusRand();
			const release = releaseTimeMs(releaseRand);
			const reviewAt = completedAt + minuteFloor(release * between(releaseRand, 0.2, 0.7));
			const decideAt = completedAt + minuteFloor(release);
			const decider = pick(releaseRand, LOT_DECIDERS);
			if (decideAt <= now) {
				lot.status = rejected ? 'rejected' : 'released';
				lot.reviewStartedAt = reviewAt;
				lot.decidedAt = decideAt;
				lot.decidedBy = decider;
				lot.revision = 5;
			} else if (reviewAt <= now) {
				lot.status = 'in_review';
				lot.reviewStartedAt = reviewAt;
				lot.revision = 4;
			}
		}

		// Per-lot parameter summaries (finished lots; computed at completion).
		if (finished) {
			const line = lines.get(lot.line) as DemoLine;
			for (const { machine, c } of lineCharacteristics(line)) {
				const run = lotRuns.find((r) => r.machine === machine);
				if (!run) continue;
				const duration = (run.endedAt as number) - run.startedAt;
				const count = Math.max(2, Math.floor(duration / c.samplingIntervalMs));
				summaries.push(summarise(sumRand, lotIndex, c, count, lot.completedAt as number));
			}
		}
	});

	// Deviations in time order, numbered per year, each with its workflow as far as `now`.
	pendingDeviations.sort((a, b) => a.openedAt - b.openedAt);
	const devRand = stream('deviations');
	const perYear = new Map<string, number>();
	const capas: HistoryCapa[] = [];
	for (const d of pendingDeviations) {
		const openedAt = Math.min(d.openedAt, now);
		const severity = LOT_DEVIATION_SEVERITY[d.kind];
		const owner = d.kind === 'rejected-lot' ? 'qa' : pick(devRand, ['qe', 'qe', 'orla.brennan']);
		const index = deviations.length;
		const { deviation, actions } = deviationWorkflow(devRand, now, index, {
			code: nextDeviationCode(perYear, openedAt),
			title: d.title,
			description: d.description,
			kind: d.kind,
			lot: d.lot,
			alarm: d.alarm,
			inspection: d.inspection,
			line: d.lot === null ? null : lots[d.lot].line,
			severity,
			owner,
			openedBy: d.openedBy,
			openedAt,
			containedBy: d.kind === 'rejected-lot' || d.kind === 'certification' ? owner : 'lead',
			planDays: DEVIATION_DUE_DAYS[severity],
			spanMs: lotDeviationSpan(devRand, severity),
			texts: pick(devRand, LOT_DEVIATION_TEXTS[d.kind])
		});
		deviations.push(deviation);
		capas.push(...actions);
		if (d.onInspection !== undefined) inspections[d.onInspection].deviation = index;
		if (d.onAlarm !== undefined) alarms[d.onAlarm].deviation = index;
	}
	// A lot is released only once every deviation on it is closed (release is refused while one
	// is open): the decision waits for the last closure — the release time's long tail — or has
	// not happened yet. A rejection may be decided with deviations open.
	const waitRand = stream('release-waits');
	for (const d of deviations) {
		if (d.lot === null) continue;
		const lot = lots[d.lot];
		if (lot.status !== 'released' || lot.decidedAt === null) continue;
		if (d.closedAt !== null && d.closedAt + HOUR_MS <= lot.decidedAt) continue;
		const decideAt =
			d.closedAt === null ? null : d.closedAt + minuteFloor(between(waitRand, 1, 8) * HOUR_MS);
		if (decideAt !== null && decideAt <= now) {
			lot.decidedAt = decideAt;
		} else {
			lot.status = 'in_review';
			lot.decidedAt = null;
			lot.decidedBy = null;
			lot.revision = 4;
		}
	}

	// Shipments of released lots, after release.
	lots.forEach((lot, lotIndex) => {
		if (lot.status === 'released') {
			const customer = products.find((p) => p.code === lot.product)?.customer as string;
			const firstAt = (lot.decidedAt as number) + Math.round(between(shipRand, 12, 96) * HOUR_MS);
			if (firstAt <= now) {
				const split = shipRand() < 0.2;
				const parts = split ? apportion(lot.goodQty, [0.6, 0.4]) : [lot.goodQty];
				parts.forEach((quantity, k) => {
					const shippedAt = firstAt + k * Math.round(between(shipRand, 24, 120) * HOUR_MS);
					if (shippedAt > now || quantity <= 0) return;
					shipments.push({
						code: `SH-${lot.code}-${k + 1}`,
						lot: lotIndex,
						customer,
						quantity,
						shippedAt
					});
				});
			}
		}
	});

	// Deviations about the plant rather than one lot (calibration, environment, suppliers,
	// documents), numbered after the lot deviations of their year; the recent ones still open.
	const plantRand = stream('plant-deviations');
	for (const input of plantDeviationInputs(plantRand, now, from, perYear)) {
		const { deviation, actions } = deviationWorkflow(plantRand, now, deviations.length, input);
		deviations.push(deviation);
		capas.push(...actions);
	}

	const changeRequests = generateChangeRequests(stream('change-requests'), {
		now,
		from,
		lines,
		products,
		processVersions,
		lots,
		v2From
	});

	return {
		now,
		seed,
		from,
		customers: HISTORY_CUSTOMERS.filter((c) => products.some((p) => p.customer === c.code)),
		products,
		processVersions,
		suppliers: HISTORY_SUPPLIERS,
		materials: HISTORY_MATERIALS,
		materialLots,
		people,
		certifications,
		inspectionPlans,
		lots,
		runs,
		consumption,
		inspections,
		alarms,
		deviations,
		capas,
		shipments,
		summaries,
		staff: HISTORY_STAFF,
		changeRequests,
		kpiTargets: HISTORY_KPI_TARGETS,
		operations: MACHINE_OPERATIONS
	};
}

function plannedQty(rand: Rand, p: HistoryProduct): number {
	const step = p.line === 'L1' ? 1000 : 100;
	return Math.round(between(rand, p.plannedQty[0], p.plannedQty[1]) / step) * step;
}

function roundQty(rand: Rand, p: HistoryProduct, fromDuration: number): number {
	const step = p.line === 'L1' ? 1000 : 100;
	// The planned quantity is what the slot was sized for (duration = qty / rate × 1.03..1.12).
	return Math.max(step, Math.round(fromDuration / between(rand, 1.05, 1.1) / step) * step);
}

function poissonSmall(rand: Rand, lambda: number): number {
	let k = 0;
	let p = Math.exp(-lambda);
	let cdf = p;
	const u = rand();
	while (u > cdf && k < 20) {
		k++;
		p *= lambda / k;
		cdf += p;
	}
	return k;
}

/** Certifications current at `at` for an operation on a line, with their index. */
function eligibleAt(
	certs: HistoryCertification[],
	operation: string,
	line: string,
	at: number
): { username: string; index: number }[] {
	const out: { username: string; index: number }[] = [];
	const seen = new Set<string>();
	certs.forEach((c, index) => {
		if (c.operation !== operation || c.line !== line) return;
		if (!(c.validFrom <= at && c.validTo > at && (c.revokedAt === null || c.revokedAt > at)))
			return;
		if (seen.has(c.username)) return;
		seen.add(c.username);
		out.push({ username: c.username, index });
	});
	return out;
}

function certIndexAt(
	certs: HistoryCertification[],
	username: string,
	operation: string,
	line: string,
	at: number
): number | null {
	return eligibleAt(certs, operation, line, at).find((e) => e.username === username)?.index ?? null;
}

/**
 * Annual certifications, renewed 10 days before they expire, covering the whole history for
 * everyone, except the documented exceptions (expired, revoked, expiring soon).
 */
function generateCertifications(
	rand: Rand,
	plant: DemoPlant,
	people: HistoryPerson[],
	now: number,
	from: number
): HistoryCertification[] {
	const certs: HistoryCertification[] = [];
	const lineOps = new Map(
		plant.lines.map((l) => [
			l.code,
			[...new Set(l.machines.map((m) => MACHINE_OPERATIONS[m.code] ?? 'operation'))]
		])
	);
	const chain = (
		username: string,
		operation: string,
		line: string,
		latestValidTo: number,
		grantedBy: string
	) => {
		const list: HistoryCertification[] = [];
		let validTo = latestValidTo;
		let k = 0;
		for (;;) {
			const validFrom = validTo - 365 * DAY_MS;
			list.push({
				username,
				operation,
				line,
				validFrom,
				validTo,
				evidence: `TR-${line}-${operation}-${username.split('.')[0]}-${new Date(validFrom).toISOString().slice(0, 10)}: training record and practical assessment`,
				grantedBy,
				revokedAt: null,
				revokedBy: null,
				revokeReason: null
			});
			if (validFrom < from - 30 * DAY_MS || ++k > 5) break;
			// The predecessor expired 10 days after this one began.
			validTo = validFrom + 10 * DAY_MS;
		}
		certs.push(...list.reverse());
	};
	const latestNormal = () => minuteFloor(now + between(rand, 30, 330) * DAY_MS);
	const opsOf = (person: HistoryPerson): string[] => {
		const ops = lineOps.get(person.line) ?? [];
		if (person.line === 'L1') return ops;
		// Assembly operators hold three or four of the five stations.
		const keep = ops.filter(() => rand() < 0.75);
		return keep.length >= 2 ? keep : ops.slice(0, 3);
	};
	for (const person of people) {
		for (const operation of new Set([...opsOf(person), ...exceptionOps(person.username)])) {
			const soon = CERT_EXCEPTIONS.expiringSoon.find(
				(e) => e.username === person.username && e.operation === operation
			);
			const expired =
				CERT_EXCEPTIONS.expired.username === person.username &&
				CERT_EXCEPTIONS.expired.operation === operation;
			const latest = soon
				? minuteFloor(now + soon.days * DAY_MS)
				: expired
					? minuteFloor(now - CERT_EXCEPTIONS.expired.expiredDaysAgo * DAY_MS)
					: latestNormal();
			chain(person.username, operation, person.line, latest, 'lead');
			const revoked =
				CERT_EXCEPTIONS.revoked.username === person.username &&
				CERT_EXCEPTIONS.revoked.operation === operation;
			if (revoked) {
				const last = certs[certs.length - 1];
				last.revokedAt = minuteFloor(now - CERT_EXCEPTIONS.revoked.revokedDaysAgo * DAY_MS);
				last.revokedBy = 'qe';
				last.revokeReason =
					'Withdrawn pending retraining after a set-up error on IM2 (deviation review).';
			}
		}
	}
	// Demo users: operator on every operation of every line (current, not expiring soon);
	// lead on every operation of every line; qe a line qualification for alarm review.
	for (const l of plant.lines) {
		for (const operation of lineOps.get(l.code) ?? []) {
			chain('operator', operation, l.code, minuteFloor(now + 200 * DAY_MS), 'lead');
			chain('lead', operation, l.code, minuteFloor(now + 250 * DAY_MS), 'admin');
		}
		chain('qe', 'process-review', l.code, minuteFloor(now + 280 * DAY_MS), 'admin');
	}
	return certs;
}

function exceptionOps(username: string): string[] {
	const ops: string[] = [];
	if (CERT_EXCEPTIONS.expired.username === username) ops.push(CERT_EXCEPTIONS.expired.operation);
	if (CERT_EXCEPTIONS.revoked.username === username) ops.push(CERT_EXCEPTIONS.revoked.operation);
	for (const e of CERT_EXCEPTIONS.expiringSoon) if (e.username === username) ops.push(e.operation);
	return ops;
}

/** Receipts of every material from a month before the history to now, decided 1-3 days later. */
function generateMaterialLotReceipts(rand: Rand, now: number, from: number): HistoryMaterialLot[] {
	const lots: HistoryMaterialLot[] = [];
	const perDay = new Map<string, number>();
	const codeFor = (at: number) => {
		const day = yymmdd(at);
		const n = (perDay.get(day) ?? 0) + 1;
		perDay.set(day, n);
		return `ML-${day}-${String(n).padStart(2, '0')}`;
	};
	const receipts: { material: HistoryMaterial; at: number }[] = [];
	for (const material of HISTORY_MATERIALS) {
		let at = minuteFloor(from - 40 * DAY_MS + between(rand, 0, 5) * DAY_MS);
		while (at < now - 6 * HOUR_MS) {
			receipts.push({ material, at });
			at = minuteFloor(at + material.everyDays * DAY_MS * between(rand, 0.8, 1.2));
		}
	}
	receipts.sort((a, b) => a.at - b.at);
	for (const { material, at } of receipts) {
		const decidedAt = minuteFloor(at + between(rand, 20, 70) * HOUR_MS);
		const pending = decidedAt > now - 2 * HOUR_MS;
		const by = rand() < 0.5 ? 'qe' : 'qa';
		const supplierLot = `${material.supplier.slice(0, 3)}${yymmdd(at)}${intBetween(rand, 100, 999)}`;
		lots.push({
			code: codeFor(at),
			material: material.code,
			supplier: material.supplier,
			supplierLot,
			quantity: material.nominal,
			receivedAt: at,
			expiresAt: material.shelfDays === null ? null : at + material.shelfDays * DAY_MS,
			status: pending ? 'quarantine' : 'validated',
			decidedBy: pending ? null : by,
			decidedAt: pending ? null : decidedAt,
			evidence: pending
				? null
				: `CoA ${supplierLot} reviewed; incoming inspection IR-${yymmdd(at)} passed (${by})`
		});
	}
	// The rejected delivery: polycarbonate from the supplier not on the approved list.
	const rejectedAt = minuteFloor(now - 100 * DAY_MS);
	lots.push({
		code: codeFor(rejectedAt),
		material: 'PC-RX2530',
		supplier: 'PACPOLY',
		supplierLot: `PPT-${yymmdd(rejectedAt)}-7781`,
		quantity: 750,
		receivedAt: rejectedAt,
		expiresAt: rejectedAt + 730 * DAY_MS,
		status: 'rejected',
		decidedBy: 'qe',
		decidedAt: rejectedAt + 26 * HOUR_MS,
		evidence:
			'Rejected: supplier not on the approved supplier list; CoA lot number does not match the bag labels.'
	});
	// Two fresh deliveries still in quarantine (incoming inspection pending).
	for (const [material, hoursAgo] of [
		['PC-RX2530', 20],
		['POUCH-TYV', 8]
	] as const) {
		const m = HISTORY_MATERIALS.find((x) => x.code === material) as HistoryMaterial;
		const at = minuteFloor(now - hoursAgo * HOUR_MS);
		lots.push({
			code: codeFor(at),
			material,
			supplier: m.supplier,
			supplierLot: `${m.supplier.slice(0, 3)}${yymmdd(at)}${intBetween(rand, 100, 999)}`,
			quantity: m.nominal,
			receivedAt: at,
			expiresAt: m.shelfDays === null ? null : at + m.shelfDays * DAY_MS,
			status: 'quarantine',
			decidedBy: null,
			decidedAt: null,
			evidence: null
		});
	}
	return lots;
}

/**
 * Plausible statistics of `count` raw samples of a characteristic during one lot: the lot's
 * mean wanders a little around the process mean, its SD around the process sigma; min and max
 * sit at the expected extremes of `count` normal draws; the histogram is the normal density
 * over [min, max] in HISTOGRAM_BINS equal bins, counts summing to `count`.
 */
function summarise(
	rand: Rand,
	lot: number,
	c: DemoCharacteristic,
	count: number,
	computedAt: number
): HistorySummary {
	const m = rawMoments(c);
	const mean = m.mean + m.sd * 0.25 * standardNormal(rand);
	const sd = m.sd * between(rand, 0.9, 1.12);
	const extreme = Math.sqrt(2 * Math.log(count)) - 0.3;
	let min = round(mean - sd * (extreme + between(rand, -0.3, 0.3)), c.decimals);
	let max = round(mean + sd * (extreme + between(rand, -0.3, 0.3)), c.decimals);
	if (c.kind === 'attribute') {
		min = Math.max(0, Math.round(min));
		max = Math.max(min + 1, Math.round(max));
	}
	const width = (max - min) / HISTOGRAM_BINS;
	const weights = new Array<number>(HISTOGRAM_BINS);
	let below = normalCdf((min - mean) / sd);
	for (let i = 0; i < HISTOGRAM_BINS; i++) {
		const upTo = normalCdf((min + (i + 1) * width - mean) / sd);
		weights[i] = Math.max(upTo - below, 1e-9);
		below = upTo;
	}
	// The observed extremes are samples too: the end bins hold at least one each.
	const counts = apportion(count - 2, weights);
	counts[0]++;
	counts[HISTOGRAM_BINS - 1]++;
	return {
		lot,
		characteristic: c.code,
		count,
		min,
		max,
		mean: round(mean, c.decimals + 2),
		sd: round(sd, c.decimals + 3),
		histogram: { lo: min, hi: max, counts },
		computedAt
	};
}

// ------------------------------------------------------------------------------------------
// Quality workflows: release times, plan slips, deviations with CAPA, change requests
// ------------------------------------------------------------------------------------------

/** A deviation request gathered while walking the lots, numbered once all are known. */
interface PendingDeviation {
	title: string;
	description: string;
	kind: HistoryDeviationKind;
	lot: number | null;
	alarm: number | null;
	inspection: number | null;
	openedBy: string;
	openedAt: number;
	onInspection?: number;
	onAlarm?: number;
}

/** Who decides lots: the demo `qa` user most often, the second QA reviewer otherwise. */
const LOT_DECIDERS = ['qa', 'qa', 'declan.hayes'] as const;

/**
 * Completion → decision of a lot: log-normal around 34 h (σ 0.45, p90 ≈ 61 h), and one lot in
 * 25 waits 4-9 days (a question to the customer, the reviewer away). Deviations on a lot delay
 * its release further (see generateDemoHistory).
 */
function releaseTimeMs(rand: Rand): number {
	if (rand() < 0.04) return between(rand, 4, 9) * DAY_MS;
	return Math.max(5 * HOUR_MS, 34 * HOUR_MS * Math.exp(0.45 * standardNormal(rand)));
}

/**
 * How far a lot's start slipped behind its plan (negative: started early). Most lots start on
 * plan; one in ten a few hours late, a few half a day, and one in fifty a day or more.
 */
function planSlip(rand: Rand): number {
	const u = rand();
	const hours =
		u < 0.05
			? -between(rand, 0.5, 2)
			: u < 0.82
				? 0
				: u < 0.92
					? between(rand, 0.5, 3)
					: u < 0.98
						? between(rand, 3, 12)
						: between(rand, 20, 40);
	return minuteFloor(hours * HOUR_MS);
}

const LOT_DEVIATION_SEVERITY: Record<HistoryDeviationKind, HistorySeverity> = {
	'missed-inspection': 'minor',
	'nonconforming-result': 'major',
	'spec-alarm': 'major',
	'spc-alarm': 'minor',
	certification: 'major',
	'rejected-lot': 'major',
	plant: 'minor'
};

/** Days from opening to the deviation's due date, by severity. */
const DEVIATION_DUE_DAYS: Record<HistorySeverity, number> = { minor: 30, major: 20, critical: 10 };

/** Opening → closure of a lot deviation: log-normal, median 2.5 / 4 / 6 days by severity. */
function lotDeviationSpan(rand: Rand, severity: HistorySeverity): number {
	const median = severity === 'minor' ? 2.5 : severity === 'major' ? 4 : 6;
	const days = median * Math.exp(0.5 * standardNormal(rand));
	return Math.min(21, Math.max(0.8, days)) * DAY_MS;
}

interface DeviationTexts {
	containment: string;
	rootCause: string;
	actions: { kind: 'corrective' | 'preventive'; description: string; owner: string }[];
	effectiveness: string;
}

const LOT_DEVIATION_TEXTS: Record<HistoryDeviationKind, DeviationTexts[]> = {
	'missed-inspection': [
		{
			containment: 'Retained parts from the interval quarantined and re-inspected: all conforming.',
			rootCause:
				'Inspector called to another station at the due time; no cover arranged at the shift handover.',
			actions: [
				{
					kind: 'corrective',
					description: 'Brief the shift on inspection cover during absences.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Add "inspection cover agreed" to the shift handover checklist.',
					owner: 'qe'
				}
			],
			effectiveness: 'No missed inspection on the line in the 30 days after the actions.'
		},
		{
			containment: 'Parts made since the last check held; sample of 32 re-inspected: conforming.',
			rootCause: 'Due inspection not noticed during a material change-over on the line.',
			actions: [
				{
					kind: 'corrective',
					description: 'Re-train the line on inspection timing during change-overs.',
					owner: 'lead'
				}
			],
			effectiveness: 'Inspections during the next 12 change-overs all on time.'
		}
	],
	'nonconforming-result': [
		{
			containment: 'Lot placed on hold; parts from the last conforming check onward segregated.',
			rootCause:
				'Worn core pin (cavity 3): the dimension drifted below the LSL between preventive maintenance intervals.',
			actions: [
				{
					kind: 'corrective',
					description: 'Replace the core pin set and re-qualify the first-off.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Shorten the core pin PM interval from 500k to 350k shots.',
					owner: 'orla.brennan'
				},
				{
					kind: 'preventive',
					description: 'Add a wear check of core pins to the weekly tool inspection.',
					owner: 'qe'
				}
			],
			effectiveness: 'Capability of the dimension Cpk ≥ 1.67 over the next 20 lots.'
		}
	],
	'spec-alarm': [
		{
			containment:
				'Parts made since the last conforming check segregated and 100 % inspected; nonconforming parts scrapped.',
			rootCause: 'Resin moisture above the limit after a dryer heater fault.',
			actions: [
				{
					kind: 'corrective',
					description: 'Repair the dryer heater and verify the dew point.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Interlock the press feed on the dryer dew-point alarm.',
					owner: 'orla.brennan'
				}
			],
			effectiveness: 'No out-of-spec result on the characteristic in the following 30 days.'
		},
		{
			containment: 'Interval parts quarantined, 100 % inspected; 41 parts scrapped.',
			rootCause: 'Set-up parameter entered from the previous product version after a change-over.',
			actions: [
				{
					kind: 'corrective',
					description: 'Correct the set-up sheet and verify on the next change-over.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Set-up parameters loaded from the process version, not typed in.',
					owner: 'qe'
				}
			],
			effectiveness: 'Next 10 change-overs without a set-up error.'
		}
	],
	'spc-alarm': [
		{
			containment: 'Process adjusted; 20 parts from the signal interval measured: conforming.',
			rootCause: 'Gradual tool wear shifted the mean; within the spec but out of control.',
			actions: [
				{
					kind: 'corrective',
					description: 'Tool change brought forward; mean re-centred.',
					owner: 'lead'
				}
			],
			effectiveness: 'Chart in control for the 15 lots after the tool change.'
		},
		{
			containment: 'Interval sample re-measured on a second gauge: conforming.',
			rootCause: 'Gauge drift: the in-line gauge read high after a temperature change.',
			actions: [
				{ kind: 'corrective', description: 'Recalibrate the in-line gauge.', owner: 'qe' },
				{
					kind: 'preventive',
					description: 'Daily zero check of the gauge added to the start-up routine.',
					owner: 'lead'
				}
			],
			effectiveness: 'Gauge zero checks within tolerance for 30 days; no repeat signal.'
		}
	],
	certification: [
		{
			containment: 'Parts of the run re-tested 100 % by a certified operator: no leak found.',
			rootCause:
				'The certification expiry was not visible at run start; the operator was rostered from memory.',
			actions: [
				{
					kind: 'corrective',
					description: 'Recertify the operator (training record and assessment).',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Run start refuses an operator without a current certification.',
					owner: 'qe'
				}
			],
			effectiveness: 'No run by an uncertified operator since the station check went live.'
		}
	],
	'rejected-lot': [
		{
			containment: 'Lot scrapped under supervision; nothing shipped.',
			rootCause:
				'Line clearance at lot start not signed; labels of the previous product found on the line.',
			actions: [
				{ kind: 'corrective', description: 'Re-train the shift on line clearance.', owner: 'lead' },
				{
					kind: 'preventive',
					description: 'Make line clearance a required step of lot start on the station.',
					owner: 'qe'
				}
			],
			effectiveness: 'Line clearance signed on every lot of the next month.'
		}
	],
	plant: []
};

function nextDeviationCode(perYear: Map<string, number>, openedAt: number): string {
	const year = new Date(openedAt).toISOString().slice(0, 4);
	const n = (perYear.get(year) ?? 0) + 1;
	perYear.set(year, n);
	return `DEV-${year}-${String(n).padStart(4, '0')}`;
}

interface DeviationInput {
	code: string;
	title: string;
	description: string;
	kind: HistoryDeviationKind;
	lot: number | null;
	alarm: number | null;
	inspection: number | null;
	line: string | null;
	severity: HistorySeverity;
	owner: string;
	openedBy: string;
	openedAt: number;
	containedBy: string;
	/** Due date of the deviation, days after opening (CAPA due dates follow this plan). */
	planDays: number;
	/** How long it actually takes from opening to closure (closure may lie after `now`). */
	spanMs: number;
	texts: DeviationTexts;
}

/**
 * A deviation's workflow laid out over its span (contained within hours, investigated at about
 * a quarter, actions done by three quarters, effectiveness checked, closed), cut at `now`: each
 * step reached before `now` sets its fields, and the status is the last step reached. CAPA
 * actions are created when the deviation enters `actions`; their due dates follow the planned
 * schedule (planDays), their completion the actual one, so a slow deviation has overdue actions.
 */
function deviationWorkflow(
	rand: Rand,
	now: number,
	index: number,
	d: DeviationInput
): { deviation: HistoryDeviation; actions: HistoryCapa[] } {
	const o = d.openedAt;
	const S = d.spanMs;
	const P = d.planDays * DAY_MS;
	const at = (fraction: number) => minuteFloor(o + S * fraction);
	const containedAt = Math.max(
		o + 20 * MINUTE_MS,
		minuteFloor(o + Math.min(S * 0.04, between(rand, 1, 8) * HOUR_MS))
	);
	const investigatedAt = Math.max(containedAt + MINUTE_MS, at(between(rand, 0.2, 0.32)));
	const actionsAt = investigatedAt + Math.max(MINUTE_MS, minuteFloor(S * 0.03));
	const lastDone = at(between(rand, 0.7, 0.83));
	const effAt = lastDone + Math.max(MINUTE_MS, minuteFloor(S * 0.02));
	const checkedAt = Math.max(effAt + MINUTE_MS, at(0.97));
	const closeAt = Math.max(checkedAt + MINUTE_MS, minuteFloor(o + S));
	const reached = (t: number) => t <= now;
	const checker = pick(
		rand,
		['qa', 'declan.hayes'].filter((u) => u !== d.owner)
	);
	const status: HistoryDeviationStatus = reached(closeAt)
		? 'closed'
		: reached(effAt)
			? 'effectiveness'
			: reached(actionsAt)
				? 'actions'
				: reached(investigatedAt)
					? 'investigated'
					: reached(containedAt)
						? 'contained'
						: 'open';
	const steps = [containedAt, investigatedAt, actionsAt, effAt, closeAt].filter(reached);

	// CAPA actions: the texts' actions (1-3), the last one done exactly at lastDone.
	const actions: HistoryCapa[] = [];
	if (reached(actionsAt)) {
		const plannedStart = o + 0.3 * P;
		const plannedEnd = o + 0.8 * P;
		d.texts.actions.forEach((a, k) => {
			const last = k === d.texts.actions.length - 1;
			const doneAt = last
				? lastDone
				: actionsAt + minuteFloor((lastDone - actionsAt) * between(rand, 0.3, 1));
			const dueAt = Math.max(
				minuteFloor(plannedStart + (plannedEnd - plannedStart) * between(rand, 0.4, 1)),
				actionsAt + minuteFloor(between(rand, 2, 7) * DAY_MS)
			);
			const cancelled = k > 0 && rand() < 0.08;
			const done = reached(doneAt);
			actions.push({
				code: `CAPA-${d.code.slice(4)}-${k + 1}`,
				deviation: index,
				kind: a.kind,
				description: a.description,
				owner: a.owner,
				dueAt,
				status: !done ? 'open' : cancelled ? 'cancelled' : 'done',
				outcome: !done
					? null
					: cancelled
						? 'Cancelled: covered by the corrective action (same change), agreed at the CAPA review.'
						: `Done: ${a.description.replace(/\.$/, '').toLowerCase()}; evidence filed with ${d.code}.`,
				doneAt: done ? doneAt : null,
				doneBy: done ? (cancelled ? d.owner : a.owner) : null,
				createdBy: d.owner,
				createdAt: actionsAt
			});
		});
	}
	const effDue = reached(effAt)
		? effAt + Math.max(DAY_MS, minuteFloor((checkedAt - effAt) * between(rand, 0.9, 1.4)))
		: null;
	const checked = reached(checkedAt);
	return {
		deviation: {
			code: d.code,
			title: d.title,
			description: d.description,
			kind: d.kind,
			lot: d.lot,
			alarm: d.alarm,
			inspection: d.inspection,
			line: d.line,
			severity: d.severity,
			status,
			owner: d.owner,
			dueAt: o + P,
			containment: reached(containedAt) ? d.texts.containment : null,
			containedAt: reached(containedAt) ? containedAt : null,
			containedBy: reached(containedAt) ? d.containedBy : null,
			rootCause: reached(investigatedAt) ? d.texts.rootCause : null,
			investigatedAt: reached(investigatedAt) ? investigatedAt : null,
			investigatedBy: reached(investigatedAt) ? d.owner : null,
			effectivenessDueAt: effDue,
			effectivenessResult: checked ? d.texts.effectiveness : null,
			effective: checked ? true : null,
			effectivenessCheckedAt: checked ? checkedAt : null,
			effectivenessCheckedBy: checked ? checker : null,
			revision: 1 + steps.length,
			openedBy: d.openedBy,
			openedAt: o,
			closedAt: reached(closeAt) ? closeAt : null,
			closedBy: reached(closeAt) ? checker : null,
			updatedAt: Math.max(o, ...steps, checked ? checkedAt : o)
		},
		actions
	};
}

interface PlantDeviationTemplate {
	title: string;
	description: string;
	line: string | null;
	severity: HistorySeverity;
	owner: string;
	texts: DeviationTexts;
}

const PLANT_DEVIATIONS: PlantDeviationTemplate[] = [
	{
		title: 'Calibration overdue: torque gauge TG-{n} on TQ1',
		description:
			'The torque gauge was used 6 days past its calibration due date. Cap torque results in that period are suspect.',
		line: 'L2',
		severity: 'major',
		owner: 'qe',
		texts: {
			containment: 'Gauge withdrawn; calibrated: found within tolerance (as-found data filed).',
			rootCause: 'Calibration recall list not updated when the gauge was moved between stations.',
			actions: [
				{ kind: 'corrective', description: 'Update the calibration recall list.', owner: 'qe' },
				{
					kind: 'preventive',
					description: 'Gauge location tracked in the calibration system, with a 14-day warning.',
					owner: 'orla.brennan'
				}
			],
			effectiveness: 'No gauge used past its due date in the following quarter.'
		}
	},
	{
		title: 'Cleanroom particle count excursion, ISO 7 zone {n}',
		description:
			'Non-viable particle count (0.5 µm) above the action limit during routine monitoring of the assembly cleanroom.',
		line: 'L2',
		severity: 'major',
		owner: 'orla.brennan',
		texts: {
			containment:
				'Product exposed in the interval held; room cleaned and re-sampled within limits.',
			rootCause: 'HEPA filter gasket leak on the ceiling unit above the pouch sealer.',
			actions: [
				{
					kind: 'corrective',
					description: 'Replace the filter gasket; integrity test.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Add gasket inspection to the semi-annual HEPA integrity test.',
					owner: 'orla.brennan'
				}
			],
			effectiveness: 'Particle counts within alert limits for 8 weeks.'
		}
	},
	{
		title: 'Supplier CoA discrepancy: PEBAX 7233 delivery {n}',
		description:
			'Certificate of analysis melt flow value outside the agreed range; material already validated and partly consumed.',
		line: 'L1',
		severity: 'major',
		owner: 'qe',
		texts: {
			containment: 'Remaining material quarantined; retained parts tested: conforming.',
			rootCause:
				'Incoming inspection compared the CoA against a superseded specification revision.',
			actions: [
				{
					kind: 'corrective',
					description: 'Supplier corrective action request (SCAR) issued to Arkema.',
					owner: 'orla.brennan'
				},
				{
					kind: 'preventive',
					description: 'Incoming inspection form pulls the current specification revision.',
					owner: 'qe'
				}
			],
			effectiveness: 'Next 5 deliveries checked against the current revision; SCAR closed.'
		}
	},
	{
		title: 'Mould temperature controller alarm log gap on IM{n}',
		description: 'The controller lost its alarm history for 3 days after a firmware update.',
		line: 'L1',
		severity: 'minor',
		owner: 'qe',
		texts: {
			containment: 'Process data for the gap reconstructed from the SPC records: no excursion.',
			rootCause: 'Firmware update reset the log retention setting to its default.',
			actions: [
				{
					kind: 'corrective',
					description: 'Restore the retention setting on all controllers.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Firmware updates go through change control with a settings check.',
					owner: 'qe'
				}
			],
			effectiveness: 'Settings check performed on the next two firmware updates.'
		}
	},
	{
		title: 'Pouch seal failure found at customer incoming inspection',
		description:
			'Brightwater reported 3 open seals in one shipment of IV-2200-AS. Sterile barrier at risk.',
		line: 'L2',
		severity: 'critical',
		owner: 'qa',
		texts: {
			containment:
				'Shipped lots of the period recalled to quarantine at the customer; field action assessed.',
			rootCause:
				'Seal bar temperature sensor drifting low; the seal strength check interval too long to catch it.',
			actions: [
				{
					kind: 'corrective',
					description: 'Replace the seal bar sensor; re-validate (OQ).',
					owner: 'lead'
				},
				{
					kind: 'corrective',
					description: 'Dye-penetration test of retained samples of all affected lots.',
					owner: 'orla.brennan'
				},
				{
					kind: 'preventive',
					description: 'Seal strength check every 300 parts instead of 600 (sampling plan change).',
					owner: 'qe'
				}
			],
			effectiveness: 'No seal failure in 3 months; customer complaint closed.'
		}
	},
	{
		title: 'Training record missing for visual inspection of label {n}',
		description: 'An operator performed visual inspection before the training record was signed.',
		line: 'L2',
		severity: 'minor',
		owner: 'orla.brennan',
		texts: {
			containment: 'Inspections of the period repeated by a certified inspector: conforming.',
			rootCause: 'Training signed off on paper; the record was entered two weeks later.',
			actions: [
				{
					kind: 'corrective',
					description: 'Enter the pending training records; verify the operator.',
					owner: 'lead'
				}
			],
			effectiveness: 'Audit of training records: no gap found in the next month.'
		}
	},
	{
		title: 'Document control: superseded work instruction WI-{n} at the line',
		description:
			'A superseded revision of the work instruction was found at the station during an internal audit.',
		line: null,
		severity: 'minor',
		owner: 'qa',
		texts: {
			containment: 'Superseded copy removed; lots of the period reviewed: no impact on product.',
			rootCause: 'Printed copy kept at the station after the revision was released electronically.',
			actions: [
				{
					kind: 'corrective',
					description: 'Sweep all stations for printed copies.',
					owner: 'lead'
				},
				{
					kind: 'preventive',
					description: 'Work instructions shown only on the station screen.',
					owner: 'manager'
				}
			],
			effectiveness: 'Next internal audit: no uncontrolled copy found.'
		}
	},
	{
		title: 'Compressed air dew point above limit, compressor {n}',
		description: 'Dew point of the process air above the −40 °C limit for 5 hours.',
		line: null,
		severity: 'minor',
		owner: 'qe',
		texts: {
			containment: 'Air-blown parts of the period checked for moisture marks: none.',
			rootCause: 'Desiccant dryer regeneration valve stuck.',
			actions: [
				{ kind: 'corrective', description: 'Replace the regeneration valve.', owner: 'lead' },
				{
					kind: 'preventive',
					description: 'Dew-point alarm routed to the shift lead pager.',
					owner: 'qe'
				}
			],
			effectiveness: 'Dew point within limit for 60 days with the alarm in place.'
		}
	},
	{
		title: 'Leak tester LT1 daily verification failed (master leak {n})',
		description: 'The daily verification with the calibrated master leak failed at start-up.',
		line: 'L2',
		severity: 'major',
		owner: 'orla.brennan',
		texts: {
			containment:
				'Parts tested since the last passing verification re-tested on a verified tester.',
			rootCause: 'Test fixture seal worn; small leak in the reference circuit.',
			actions: [
				{ kind: 'corrective', description: 'Replace the fixture seals.', owner: 'lead' },
				{
					kind: 'preventive',
					description: 'Fixture seals replaced on a fixed 4-week interval.',
					owner: 'orla.brennan'
				},
				{
					kind: 'preventive',
					description: 'Verification at every shift start instead of daily.',
					owner: 'qe'
				}
			],
			effectiveness: 'Verifications passed for 6 weeks; no re-test needed.'
		}
	},
	{
		title: 'Resin lot traceability gap at hopper change {n}',
		description:
			'The material lot loaded at a hopper change was not recorded for about 40 minutes of moulding.',
		line: 'L1',
		severity: 'minor',
		owner: 'qe',
		texts: {
			containment:
				'Lot identified from the dryer log and the receiving records; genealogy completed.',
			rootCause: 'Hopper change done by maintenance, who had no station login.',
			actions: [
				{
					kind: 'corrective',
					description: 'Record the material lot in the lot record from the dryer log.',
					owner: 'qe'
				},
				{
					kind: 'preventive',
					description: 'Hopper changes only by a certified operator, scanned at the station.',
					owner: 'lead'
				}
			],
			effectiveness: 'All hopper changes of the next month scanned.'
		}
	}
];

/**
 * Plant deviations: about two a month over the year. The older ones closed after 3-8 weeks
 * (some after their due date); the ten most recent are open now in every workflow state, a
 * few past their due date with overdue actions.
 */
function plantDeviationInputs(
	rand: Rand,
	now: number,
	from: number,
	perYear: Map<string, number>
): DeviationInput[] {
	const out: DeviationInput[] = [];
	// How far along the open ones are (fraction of their actual span) and how long ago they opened.
	const open: [number, number][] = [
		[0.03, 0.01],
		[3, 0.3],
		[5, 0.2],
		[9, 0.35],
		[14, 0.5],
		[23, 0.6],
		[28, 0.7],
		[34, 0.55],
		[47, 0.82],
		[61, 0.9]
	];
	const older = 16;
	const olderTimes = Array.from({ length: older }, () =>
		minuteFloor(between(rand, from + 10 * DAY_MS, now - 80 * DAY_MS))
	).sort((a, b) => a - b);
	const make = (openedAt: number, spanMs: number, k: number): DeviationInput => {
		const t = PLANT_DEVIATIONS[k % PLANT_DEVIATIONS.length];
		const n = String(intBetween(rand, 1, 9));
		return {
			code: nextDeviationCode(perYear, openedAt),
			title: t.title.replace('{n}', n),
			description: t.description,
			kind: 'plant',
			lot: null,
			alarm: null,
			inspection: null,
			line: t.line,
			severity: t.severity,
			owner: t.owner,
			openedBy: t.owner === 'qa' ? 'qa' : 'qe',
			openedAt,
			containedBy: t.line === null ? t.owner : 'lead',
			planDays: DEVIATION_DUE_DAYS[t.severity] + 10,
			spanMs,
			texts: t.texts
		};
	};
	olderTimes.forEach((openedAt, k) => {
		const plan = DEVIATION_DUE_DAYS[PLANT_DEVIATIONS[k % PLANT_DEVIATIONS.length].severity] + 10;
		out.push(make(openedAt, plan * between(rand, 0.6, 1.6) * DAY_MS, k));
	});
	open.forEach(([daysAgo, progress], k) => {
		// The newest was opened minutes ago (not yet contained); the others at some hour of the day.
		const jitter = daysAgo >= 1 ? between(rand, 0, 0.8) : 0;
		const openedAt = minuteFloor(now - (daysAgo + jitter) * DAY_MS);
		out.push(make(openedAt, (now - openedAt) / progress, older + k));
	});
	return out;
}

interface ChangeContext {
	now: number;
	from: number;
	lines: Map<string, DemoLine>;
	products: HistoryProduct[];
	processVersions: HistoryProcessVersion[];
	lots: HistoryLot[];
	v2From: number;
}

const RULE_SETS = ['nelson-all', 'western-electric', 'aiag', 'beyond-limits'] as const;
const CHANGE_AUTHORS = ['qe', 'qe', 'orla.brennan', 'orla.brennan', 'manager'] as const;
const CHANGE_APPROVERS = ['qa', 'qa', 'declan.hayes', 'manager', 'qe', 'orla.brennan'] as const;

/** Stages an open request can be caught in, in order, with the step that ends each. */
const CHANGE_STAGES = ['draft', 'impact', 'review', 'approved', 'implemented', 'closed'] as const;

/**
 * About sixty change requests over the year: the four that made process version 2 (closed, with
 * their result version), control-limit, sampling-plan, rule-set and spec-limit changes mostly
 * closed after a few weeks, some rejected at review or withdrawn by their author, and a handful
 * open now in draft, impact analysis, review, approved and implemented. Authors are quality
 * engineers (or the manager); the approver is always someone else. A closed change's proposal
 * ends at today's configuration of the plant (so the walls agree with the last change); an open,
 * rejected or withdrawn one proposes something new.
 */
function generateChangeRequests(rand: Rand, ctx: ChangeContext): HistoryChangeRequest[] {
	const { now, from, lines, products, processVersions, lots, v2From } = ctx;
	const chars = [...lines.values()].flatMap((l) =>
		lineCharacteristics(l).map((x) => ({ line: l.code, c: x.c }))
	);
	const lotsByLine = new Map<string, HistoryLot[]>();
	for (const l of lots) {
		const list = lotsByLine.get(l.line) ?? [];
		list.push(l);
		lotsByLine.set(l.line, list);
	}
	const openLotsAt = (line: string, product: string | null, t: number) =>
		(lotsByLine.get(line) ?? [])
			.filter(
				(l) =>
					(product === null || l.product === product) &&
					l.startedAt !== null &&
					l.startedAt <= t &&
					(l.completedAt === null || l.decidedAt === null || l.decidedAt > t)
			)
			.map((l) => l.code);
	const specAt = (product: string, characteristic: string, t: number) => {
		const version = t >= v2From ? 2 : 1;
		const pv = processVersions.find((v) => v.product === product && v.version === version);
		return {
			version,
			spec: pv?.specs.find((s) => s.characteristic === characteristic) ?? null
		};
	};
	const out: Omit<HistoryChangeRequest, 'code'>[] = [];
	const times = (openedAt: number) => {
		const impactAt = openedAt + minuteFloor(between(rand, 0.3, 3) * DAY_MS);
		const reviewAt = impactAt + minuteFloor(between(rand, 1, 6) * DAY_MS);
		const approvedAt =
			reviewAt + minuteFloor(Math.min(20, 4 * Math.exp(0.6 * standardNormal(rand))) * DAY_MS);
		const implementedAt = approvedAt + minuteFloor(between(rand, 0.1, 3) * DAY_MS);
		const effectiveFrom = implementedAt + minuteFloor(between(rand, 0, 2) * DAY_MS);
		const closedAt = effectiveFrom + minuteFloor(between(rand, 7, 35) * DAY_MS);
		return [openedAt, impactAt, reviewAt, approvedAt, implementedAt, closedAt, effectiveFrom];
	};

	// The four process-version changes that made version 2 (they exist as rows).
	for (const p of products) {
		const v1 = processVersions.find((v) => v.product === p.code && v.version === 1);
		const v2 = processVersions.find((v) => v.product === p.code && v.version === 2);
		if (!v1 || !v2) continue;
		const approvedAt = v2.approvedAt;
		const reviewAt = approvedAt - minuteFloor(between(rand, 2, 6) * DAY_MS);
		const impactAt = reviewAt - minuteFloor(between(rand, 2, 5) * DAY_MS);
		const openedAt = impactAt - minuteFloor(between(rand, 1, 4) * DAY_MS);
		const closedAt = v2.effectiveFrom + minuteFloor(between(rand, 14, 30) * DAY_MS);
		const changed = v2.specs.filter((s) => {
			const before = v1.specs.find((x) => x.characteristic === s.characteristic);
			return before && (before.lsl !== s.lsl || before.usl !== s.usl);
		});
		out.push({
			kind: 'process-version',
			title: `${p.code}: process version 2 — tolerances to the customer drawing after PPAP`,
			justification:
				'Customer PPAP approved the drawing tolerances; version 1 carried the wider validation tolerances.',
			status: closedAt <= now ? 'closed' : 'implemented',
			characteristic: null,
			product: p.code,
			processVersion: { product: p.code, version: 1 },
			resultProcessVersion: { product: p.code, version: 2 },
			line: p.line,
			proposal: {
				fromVersion: 1,
				toVersion: 2,
				description: v2.description,
				specs: changed.map((s) => ({
					characteristic: s.characteristic,
					current: v1.specs.find((x) => x.characteristic === s.characteristic),
					proposed: s
				}))
			},
			impact: {
				products: [p.code],
				characteristics: changed.map((s) => s.characteristic),
				openLots: openLotsAt(p.line, p.code, impactAt),
				computedAt: new Date(impactAt).toISOString()
			},
			effectiveFrom: v2.effectiveFrom,
			revision: 2,
			author: v2.createdBy,
			approver: v2.approvedBy,
			openedAt,
			impactAt,
			reviewAt,
			approvedAt,
			implementedAt: approvedAt + minuteFloor(between(rand, 2, 20) * HOUR_MS),
			closedAt: closedAt <= now ? closedAt : null,
			rejectedAt: null,
			withdrawnAt: null,
			decisionReason: closedAt <= now ? 'Verified: first lots under version 2 released.' : null,
			updatedAt: Math.min(now, closedAt)
		});
	}

	// The others: old ones run their course; the last eight are caught at a given stage now.
	const forced: [number, (typeof CHANGE_STAGES)[number]][] = [
		[1, 'draft'],
		[3, 'draft'],
		[4, 'impact'],
		[6, 'impact'],
		[9, 'review'],
		[12, 'review'],
		[15, 'approved'],
		[19, 'implemented']
	];
	const olderCount = 52;
	const older = Array.from({ length: olderCount }, () =>
		minuteFloor(between(rand, from + 3 * DAY_MS, now - 25 * DAY_MS))
	).sort((a, b) => a - b);
	const plans: { openedAt: number; stage: (typeof CHANGE_STAGES)[number] | null }[] = [
		...older.map((openedAt) => ({ openedAt, stage: null })),
		...forced.map(([daysAgo, stage]) => ({
			openedAt: minuteFloor(now - (daysAgo + between(rand, 0, 0.7)) * DAY_MS),
			stage
		}))
	];
	for (const plan of plans) {
		const u = rand();
		const kind: HistoryChangeKind =
			u < 0.36
				? 'control-limit'
				: u < 0.56
					? 'sampling-plan'
					: u < 0.72
						? 'rule-set'
						: u < 0.88
							? 'spec-limit'
							: 'process-version';
		const author = pick(rand, CHANGE_AUTHORS);
		const approver = pick(
			rand,
			CHANGE_APPROVERS.filter((a) => a !== author)
		);
		const steps0 = times(plan.openedAt);
		const openedAt = steps0[0];
		let [, impactAt, reviewAt, approvedAt, implementedAt, closedAt, effectiveFrom] = steps0;
		// Outcome: heavy changes (spec, process version) never reach implementation here (no
		// version rows exist for them); the others mostly close.
		const heavy = kind === 'spec-limit' || kind === 'process-version';
		const roll = rand();
		let outcome: 'rejected' | 'withdrawn' | 'done' =
			heavy && roll < 0.5
				? 'rejected'
				: heavy
					? 'withdrawn'
					: roll < 0.1
						? 'rejected'
						: roll < 0.18
							? 'withdrawn'
							: 'done';
		if (plan.stage !== null) {
			// Squeeze the steps so that `now` falls inside the wanted stage.
			outcome = 'done';
			const k = CHANGE_STAGES.indexOf(plan.stage);
			const steps = [openedAt, impactAt, reviewAt, approvedAt, implementedAt, closedAt];
			const span = steps[k] - openedAt + (steps[k + 1] - steps[k]) * between(rand, 0.3, 0.7);
			const f = (now - openedAt) / span;
			const scale = (t: number) => openedAt + minuteFloor((t - openedAt) * f);
			[impactAt, reviewAt, approvedAt, implementedAt, closedAt, effectiveFrom] = [
				impactAt,
				reviewAt,
				approvedAt,
				implementedAt,
				closedAt,
				effectiveFrom
			].map(scale);
			// An approved request takes effect some days after approval (in the future now).
			if (plan.stage === 'approved') {
				implementedAt = now + 2 * DAY_MS;
				effectiveFrom = minuteFloor(now + between(rand, 2, 6) * DAY_MS);
				closedAt = effectiveFrom + 20 * DAY_MS;
			}
		}
		// Where the request stopped: rejected at review, withdrawn before approval.
		const stopAt =
			outcome === 'rejected'
				? reviewAt + minuteFloor(between(rand, 1, 7) * DAY_MS)
				: outcome === 'withdrawn'
					? pick(rand, [openedAt, impactAt, reviewAt]) + minuteFloor(between(rand, 0.5, 5) * DAY_MS)
					: null;
		const reached = (t: number) => t <= now && (stopAt === null || t < stopAt);
		const stopped = stopAt !== null && stopAt <= now;

		// Subject and proposal.
		const x = pick(rand, chars);
		const c = x.c;
		const lineProducts = products.filter((p) => p.line === x.line);
		const product = pick(rand, lineProducts.length > 0 ? lineProducts : products);
		const toCurrent = outcome === 'done' && (plan.stage === null || plan.stage === 'implemented');
		// Limits on the chart's own scale, as the engine draws them from a limit version (centre
		// and within-subgroup sigma; attribute charts derive their width from the centre): the
		// known process, shifted by `shift` of the plotted statistic's sigma, widened by `widen`.
		const limits = (shift: number, widen: number) => {
			const process = { centre: c.process.mean, sigma: c.process.sigma };
			const known = primaryLimits(c.chart, process, c.subgroupSize, { index: 1_000 });
			const centre = round(c.process.mean + shift * known.sigma, c.decimals + 1);
			// Attribute charts take their width from the centre and ignore sigma (the plant stores
			// 0); the service still wants a positive one: the plotted statistic's, for the record.
			const sigma =
				c.kind === 'variable'
					? round(c.process.sigma * widen, c.decimals + 3)
					: round(
							primaryLimits(c.chart, { centre, sigma: 1 }, c.subgroupSize).sigma,
							c.decimals + 3
						);
			const drawn = primaryLimits(c.chart, { centre, sigma }, c.subgroupSize, { index: 1_000 });
			return {
				lcl: drawn.lcl === null ? null : round(drawn.lcl, c.decimals + 1),
				centre,
				ucl: drawn.ucl === null ? null : round(drawn.ucl, c.decimals + 1),
				sigma
			};
		};
		let title: string;
		let justification: string;
		let proposal: Record<string, unknown>;
		let subjectChar: string | null = c.code;
		let subjectProduct: string | null = null;
		let processVersion: HistoryChangeRequest['processVersion'] = null;
		let line = x.line;
		if (kind === 'control-limit') {
			const now_ = limits(0, 1);
			const other = limits(between(rand, -0.4, 0.4), between(rand, 0.85, 1.15));
			title = `Recalculate control limits: ${c.name} (${c.code})`;
			justification = pick(rand, [
				'Limits recalculated from 25 subgroups after the tool refurbishment (phase I, no special causes).',
				'Process mean shifted after the material supplier change; limits no longer reflect the process.',
				'Annual review of control limits: recalculated from the last 100 subgroups.'
			]);
			const proposed = toCurrent ? now_ : other;
			const basis = `Phase I study of ${intBetween(rand, 25, 125)} subgroups`;
			proposal = {
				characteristic: c.code,
				current: toCurrent ? other : now_,
				proposed,
				basis,
				// The fields the change-control service reads (src/lib/server/change/proposal.ts):
				// centre and the within-subgroup sigma, which the engine turns into the limits above.
				centre: proposed.centre,
				sigma: proposed.sigma,
				source: basis
			};
		} else if (kind === 'sampling-plan') {
			const current = { subgroupSize: c.subgroupSize, samplingIntervalMs: c.samplingIntervalMs };
			const other =
				rand() < 0.5
					? { ...current, subgroupSize: Math.max(1, c.subgroupSize + (rand() < 0.5 ? -1 : 1)) }
					: {
							...current,
							samplingIntervalMs:
								c.samplingIntervalMs * (rand() < 0.5 || c.samplingIntervalMs < 200 ? 2 : 0.5)
						};
			title = `Sampling plan: ${c.name} (${c.code})`;
			justification = pick(rand, [
				'Process capable (Cpk > 2) for six months: sampling reduced.',
				'Detection too slow for the drift seen in recent deviations: sampling increased.',
				'Gauge R&R improved: subgroup size adjusted to the new measurement system.'
			]);
			const proposed = toCurrent ? current : other;
			proposal = {
				characteristic: c.code,
				current: toCurrent ? other : current,
				proposed,
				subgroupSize: proposed.subgroupSize,
				samplingIntervalMs: proposed.samplingIntervalMs
			};
		} else if (kind === 'rule-set') {
			const other = pick(
				rand,
				RULE_SETS.filter((r) => r !== c.rules)
			);
			title = `Rule set of ${c.name} (${c.code})`;
			justification = pick(rand, [
				'False alarm rate too high with zone rules on an autocorrelated signal.',
				'Customer requires the AIAG rules on key characteristics.',
				'Slow drifts were not signalled: run rules added.'
			]);
			const proposed = toCurrent ? c.rules : other;
			proposal = {
				characteristic: c.code,
				current: toCurrent ? other : c.rules,
				proposed,
				rules: proposed
			};
		} else if (kind === 'spec-limit') {
			const { version, spec } = specAt(product.code, c.code, openedAt);
			const widen = between(rand, 0.85, 1.15);
			const w = (v: number | null) =>
				v === null || spec?.target == null
					? v
					: round(spec.target + (v - spec.target) * widen, c.decimals + 1);
			subjectProduct = product.code;
			processVersion = { product: product.code, version };
			title = `${product.code}: specification of ${c.name}`;
			justification = pick(rand, [
				'Customer drawing revision changes the tolerance.',
				'Capability study supports a tighter internal specification.',
				'Request from the customer to align with their incoming inspection.'
			]);
			const proposed = spec ? { ...spec, lsl: w(spec.lsl), usl: w(spec.usl) } : null;
			proposal = {
				product: product.code,
				characteristic: c.code,
				processVersion: version,
				current: spec,
				proposed,
				lsl: proposed?.lsl ?? null,
				target: proposed?.target ?? null,
				usl: proposed?.usl ?? null
			};
		} else {
			const version = openedAt >= v2From ? 2 : 1;
			subjectChar = null;
			subjectProduct = product.code;
			processVersion = { product: product.code, version };
			line = product.line;
			const what = pick(rand, [
				'second source of resin',
				'cycle time reduction',
				'new pouch material',
				'automated visual inspection'
			]);
			title = `${product.code}: new process version — ${what}`;
			justification = `Proposed ${what}; validation (IQ/OQ/PQ) plan attached.`;
			proposal = {
				fromVersion: version,
				toVersion: version + 1,
				description: `Process change: ${what}.`,
				specs: []
			};
		}
		const status: HistoryChangeStatus = stopped
			? (outcome as 'rejected' | 'withdrawn')
			: plan.stage !== null
				? plan.stage
				: heavy
					? // A heavy change still running (not stopped yet) sits in review.
						reached(reviewAt)
						? 'review'
						: reached(impactAt)
							? 'impact'
							: 'draft'
					: reached(closedAt)
						? 'closed'
						: reached(implementedAt)
							? 'implemented'
							: reached(approvedAt)
								? 'approved'
								: reached(reviewAt)
									? 'review'
									: reached(impactAt)
										? 'impact'
										: 'draft';
		const at = (name: (typeof CHANGE_STAGES)[number], t: number) =>
			CHANGE_STAGES.indexOf(name) <=
				CHANGE_STAGES.indexOf(status as (typeof CHANGE_STAGES)[number]) ||
			(stopped && t < (stopAt as number))
				? t
				: null;
		const impactTime = at('impact', impactAt);
		const times_ = {
			impactAt: impactTime,
			reviewAt: at('review', reviewAt),
			approvedAt: stopped ? null : at('approved', approvedAt),
			implementedAt: stopped ? null : at('implemented', implementedAt),
			closedAt: stopped ? null : at('closed', closedAt)
		};
		const approvedNow = times_.approvedAt !== null;
		out.push({
			kind,
			title,
			justification,
			status,
			characteristic: subjectChar,
			product: subjectProduct,
			processVersion,
			resultProcessVersion: null,
			line,
			proposal,
			impact:
				impactTime === null
					? null
					: {
							products: subjectProduct
								? [subjectProduct]
								: products.filter((p) => p.line === line).map((p) => p.code),
							characteristics: subjectChar ? [subjectChar] : [],
							openLots: openLotsAt(line, subjectProduct, impactTime),
							computedAt: new Date(impactTime).toISOString()
						},
			effectiveFrom: approvedNow ? effectiveFrom : null,
			revision: rand() < 0.3 ? 2 : 1,
			author,
			approver: approvedNow || (stopped && outcome === 'rejected') ? approver : null,
			openedAt,
			...times_,
			rejectedAt: stopped && outcome === 'rejected' ? stopAt : null,
			withdrawnAt: stopped && outcome === 'withdrawn' ? stopAt : null,
			decisionReason: stopped
				? outcome === 'rejected'
					? pick(rand, [
							'Impact on validated state not assessed: resubmit with a validation plan.',
							'Data do not support the change: capability study too short.',
							'Conflicts with the customer-approved control plan.'
						])
					: pick(rand, [
							'Superseded by a broader change request.',
							'No longer needed after the tool refurbishment.',
							'Withdrawn by the author: customer asked to wait for the drawing revision.'
						])
				: times_.closedAt !== null
					? 'Effect verified on the following lots; change closed.'
					: null,
			updatedAt: Math.max(
				openedAt,
				...[
					times_.impactAt,
					times_.reviewAt,
					times_.approvedAt,
					times_.implementedAt,
					times_.closedAt
				].filter((t): t is number => t !== null),
				stopped ? (stopAt as number) : openedAt
			)
		});
	}
	out.sort((a, b) => a.openedAt - b.openedAt);
	const perYear = new Map<string, number>();
	return out.map((cr) => {
		const year = new Date(cr.openedAt).toISOString().slice(0, 4);
		const n = (perYear.get(year) ?? 0) + 1;
		perYear.set(year, n);
		return { code: `CR-${year}-${String(n).padStart(4, '0')}`, ...cr };
	});
}
