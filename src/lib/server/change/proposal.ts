/**
 * What a change request proposes, per kind, validated with zod. The proposal is stored as JSON
 * on the request, signed with it, and turned into an effective-dated version at implementation.
 */
import { z } from 'zod';
import type { ChangeKind } from '$lib/change/workflow';

const finite = z.number().refine(Number.isFinite, 'Enter a number.');
const optionalLimit = finite.nullable();

export const RULE_PRESETS = ['nelson-all', 'western-electric', 'aiag', 'beyond-limits'] as const;

export const controlLimitProposal = z.object({
	centre: finite,
	sigma: finite.refine((s) => s > 0, 'Sigma must be greater than zero.'),
	source: z.string().trim().min(3, 'Say where the limits come from.').max(200)
});

const specTriple = z
	.object({ lsl: optionalLimit, target: optionalLimit, usl: optionalLimit })
	.refine((s) => s.lsl !== null || s.usl !== null, 'Give at least one spec limit.')
	.refine(
		(s) => s.lsl === null || s.usl === null || s.lsl < s.usl,
		'The lower spec limit must be below the upper one.'
	)
	.refine(
		(s) =>
			s.target === null ||
			((s.lsl === null || s.lsl <= s.target) && (s.usl === null || s.target <= s.usl)),
		'The target must lie between the spec limits.'
	);

export const specLimitProposal = specTriple;

export const processVersionProposal = z.object({
	description: z.string().trim().min(3, 'Describe the new process version.').max(2000),
	specs: z
		.array(
			z
				.object({ characteristicId: z.number().int().positive() })
				.and(z.object({ lsl: optionalLimit, target: optionalLimit, usl: optionalLimit }))
		)
		.max(200)
});

export const ruleSetProposal = z.object({
	rules: z.enum(RULE_PRESETS, 'Choose a rule set.')
});

export const samplingPlanProposal = z.object({
	// The demo plant itself samples subgroups of 600 (fast moulding signals).
	subgroupSize: z.number().int('Whole parts only.').min(1).max(10_000),
	samplingIntervalMs: z
		.number()
		.int()
		.min(100, 'Sample at most every 0.1 s.')
		.max(86_400_000, 'Sample at least once a day.')
});

export const PROPOSAL_SCHEMAS = {
	'control-limit': controlLimitProposal,
	'spec-limit': specLimitProposal,
	'process-version': processVersionProposal,
	'rule-set': ruleSetProposal,
	'sampling-plan': samplingPlanProposal
} satisfies Record<ChangeKind, z.ZodType>;

export type ControlLimitProposal = z.infer<typeof controlLimitProposal>;
export type SpecLimitProposal = z.infer<typeof specLimitProposal>;
export type ProcessVersionProposal = z.infer<typeof processVersionProposal>;
export type RuleSetProposal = z.infer<typeof ruleSetProposal>;
export type SamplingPlanProposal = z.infer<typeof samplingPlanProposal>;

/** Kinds whose subject is one characteristic (the others are about a product's process). */
export const CHARACTERISTIC_KINDS: readonly ChangeKind[] = [
	'control-limit',
	'spec-limit',
	'rule-set',
	'sampling-plan'
];
/** Kinds that need a product (a new process version of it is made). */
export const PRODUCT_KINDS: readonly ChangeKind[] = ['spec-limit', 'process-version'];
