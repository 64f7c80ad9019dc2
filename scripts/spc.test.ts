/**
 * The spc CLI as a user runs it: a real child process (tsx), reading a file or standard input,
 * printing JSON, failing with a message on stderr and a non-zero exit code on bad input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(join(tmpdir(), 'spc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], input?: string) {
	const r = spawnSync(TSX, [join(ROOT, 'scripts', 'spc.ts'), ...args], {
		input: input ?? '',
		encoding: 'utf8',
		timeout: 60_000
	});
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Montgomery ISQC 7th ed., Table 7.8 (circuit boards): c̄ = 19.85 (src/lib/spc/fixtures)
const circuit = {
	chart: 'c',
	data: [
		21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19,
		17, 15
	]
};

// Each case spawns tsx (about 1 s of CPU); on a loaded two-core CI machine that outgrows
// Vitest's 5 s default, which would make the test fail for reasons unrelated to the CLI.
describe('spc analyze', { timeout: 60_000 }, () => {
	it('analyses a file and prints the result as JSON', () => {
		const file = join(dir, 'circuit.json');
		writeFileSync(file, JSON.stringify(circuit));
		const r = run(['analyze', file]);
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		const out = JSON.parse(r.stdout);
		expect(out.chart).toBe('c');
		expect(out.limits.centre).toBeCloseTo(19.85, 2);
		expect(out.violations.map((v: { index: number }) => v.index + 1)).toEqual([6, 20]);
	});

	it('reads standard input with "-" and with no file, giving the same result', () => {
		const file = join(dir, 'circuit2.json');
		writeFileSync(file, JSON.stringify(circuit));
		const fromFile = run(['analyze', file]).stdout;
		expect(run(['analyze', '-'], JSON.stringify(circuit)).stdout).toBe(fromFile);
		expect(run(['analyze'], JSON.stringify(circuit)).stdout).toBe(fromFile);
	});

	it.each([
		['an unknown chart', { chart: 'pareto', data: [1] }, /unknown chart "pareto"/],
		[
			'a subgroup of size 1 on an X̄ chart',
			{ chart: 'xbar-r', data: [[1, 2], [3]] },
			/data\[1\].*at least 2 values/
		],
		['a non-numeric value', { chart: 'imr', data: [1, 'x'] }, /data\[1\]: expected a number/],
		['data of the wrong shape', { chart: 'xbar-s', data: [1, 2, 3] }, /data\[0\]/]
	])('rejects %s with a message and exit code 1', (_name, spec, message) => {
		const r = run(['analyze', '-'], JSON.stringify(spec));
		expect(r.code).toBe(1);
		expect(r.stdout).toBe('');
		expect(r.stderr).toMatch(/^spc: /);
		expect(r.stderr).toMatch(message);
	});

	it('rejects text that is not JSON and a missing file', () => {
		expect(run(['analyze', '-'], '{ nope').stderr).toMatch(/not valid JSON/);
		const missing = run(['analyze', join(dir, 'absent.json')]);
		expect(missing.code).toBe(1);
		expect(missing.stderr).toMatch(/no such file/);
	});

	it('prints usage and exits 2 on an unknown command', () => {
		const r = run(['plot']);
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/usage: npm run spc -- analyze/);
	});
});
