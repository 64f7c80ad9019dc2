/**
 * End-to-end tests against the production build (`node server.js`) with one simulator worker,
 * in Debian's Chromium where it is installed (Playwright cannot download its own browser on
 * the CI machines), else in Playwright's own. See tests/e2e/serve.ts for the test system.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** STACK.md pitfall 8: what Chromium needs to run headless as root without a GPU or network. */
const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run'
];

/**
 * Two free ports (app, control), chosen once: Playwright evaluates this file again in every
 * worker process, which inherits the environment set here, so all agree on the same ports.
 */
function freePorts(): [number, number] {
	if (process.env.E2E_PORT && process.env.E2E_CONTROL_PORT) {
		return [Number(process.env.E2E_PORT), Number(process.env.E2E_CONTROL_PORT)];
	}
	const script = `
		const net = require('node:net');
		const a = net.createServer().listen(0, '127.0.0.1', () => {
			const b = net.createServer().listen(0, '127.0.0.1', () => {
				process.stdout.write(a.address().port + ' ' + b.address().port);
				a.close(); b.close();
			});
		});`;
	const [app, control] = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
		.trim()
		.split(' ')
		.map(Number);
	process.env.E2E_PORT = String(app);
	process.env.E2E_CONTROL_PORT = String(control);
	return [app, control];
}

const [port, controlPort] = freePorts();
const executablePath = fs.existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;

export default defineConfig({
	testDir: 'tests/e2e',
	// One shared server whose process a test restarts: tests must not overlap.
	workers: 1,
	fullyParallel: false,
	timeout: 120_000,
	expect: { timeout: 15_000 },
	retries: process.env.CI ? 1 : 0,
	reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
	use: {
		baseURL: `http://127.0.0.1:${port}`,
		viewport: { width: 1920, height: 1080 },
		trace: 'retain-on-failure',
		screenshot: 'only-on-failure'
	},
	projects: [
		{
			name: 'chromium',
			use: {
				...devices['Desktop Chrome'],
				viewport: { width: 1920, height: 1080 },
				launchOptions: { executablePath, args: CHROMIUM_ARGS }
			}
		}
	],
	webServer: {
		command: 'node node_modules/tsx/dist/cli.mjs tests/e2e/serve.ts',
		url: `http://127.0.0.1:${port}/api/health`,
		// A first run builds the production bundle before the server starts.
		timeout: 300_000,
		reuseExistingServer: false,
		stdout: 'pipe',
		stderr: 'pipe',
		env: {
			E2E_PORT: String(port),
			E2E_CONTROL_PORT: String(controlPort),
			E2E_SIM_SPEED: process.env.E2E_SIM_SPEED ?? '1'
		}
	}
});
