/**
 * Offline SPC analysis for validation teams:
 *
 *   npm run spc -- analyze FILE.json      analyse one chart specification
 *   npm run spc -- analyze - < FILE.json  the same from standard input (also: no FILE)
 *
 * Prints the AnalysisResult as JSON on stdout (docs/spc.md documents both schemas). On bad
 * input prints "spc: <reason>" on stderr and exits with 1; usage errors exit with 2.
 */
import { readFileSync } from 'node:fs';
import { analyze } from '../src/lib/spc/analyze';

const USAGE = `usage: npm run spc -- analyze [FILE.json | -]
  Reads a chart specification (JSON) from FILE or standard input and prints the analysis as JSON.
  See docs/spc.md for the input and output schema.`;

/** Input larger than this is refused rather than read into memory without bound. */
const MAX_INPUT_BYTES = 256 * 1024 * 1024;

async function readStdin(): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of process.stdin) {
		const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
		size += buf.length;
		if (size > MAX_INPUT_BYTES) throw new RangeError(`input exceeds ${MAX_INPUT_BYTES} bytes`);
		chunks.push(buf);
	}
	return Buffer.concat(chunks).toString('utf8');
}

function readInput(file: string | undefined): Promise<string> {
	if (file === undefined || file === '-') return readStdin();
	try {
		return Promise.resolve(readFileSync(file, 'utf8'));
	} catch (e) {
		const code = (e as NodeJS.ErrnoException).code;
		throw new RangeError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(e)}`, {
			cause: e
		});
	}
}

async function main(argv: string[]): Promise<number> {
	const [command, file, ...rest] = argv;
	if (command === '--help' || command === '-h') {
		process.stdout.write(`${USAGE}\n`);
		return 0;
	}
	if (command !== 'analyze' || rest.length > 0) {
		process.stderr.write(`${USAGE}\n`);
		return 2;
	}
	const text = await readInput(file);
	let input: unknown;
	try {
		input = JSON.parse(text);
	} catch (e) {
		throw new RangeError(`input is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, {
			cause: e
		});
	}
	const result = analyze(input);
	process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
	return 0;
}

main(process.argv.slice(2)).then(
	(code) => {
		process.exitCode = code;
	},
	(e: unknown) => {
		// Input problems are RangeErrors with a message meant for the user; anything else is a bug
		// and keeps its stack.
		const message =
			e instanceof RangeError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
		process.stderr.write(`spc: ${message}\n`);
		process.exitCode = 1;
	}
);
