/**
 * Pairing a wall screen end to end: an administrator registers a screen for the demo plant's
 * first line and reads the pairing code; a second browser (the TV) types it at /pair, lands on
 * the line's wall and shows live values; the administrator signs out. The screen keeps working
 * past the user idle timeout (the e2e server runs with TRACEWALL_SESSION_IDLE_SECONDS=20), while
 * a person's idle session over the same time is refused — so the wait proves something.
 */
import { expect, test, type Page } from '@playwright/test';
import { login } from './helpers';

/** Must exceed TRACEWALL_SESSION_IDLE_SECONDS of tests/e2e/serve.ts (20 s). */
const PAST_IDLE_MS = 26_000;

async function liveReadings(page: Page): Promise<string[]> {
	return page
		.getByTestId('tile-value')
		.evaluateAll((rows) =>
			rows.map((row) => row.querySelector('[data-testid="value"]')?.textContent?.trim() ?? '')
		);
}

async function expectLiveValues(page: Page): Promise<void> {
	await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
	await expect.poll(async () => (await liveReadings(page)).some((v) => /\d/.test(v))).toBe(true);
	const before = await liveReadings(page);
	await expect
		.poll(
			async () => {
				const now = await liveReadings(page);
				return now.some((v, i) => v !== before[i]);
			},
			{ timeout: 20_000 }
		)
		.toBe(true);
}

test('a wall screen pairs with a code and stays live past the user idle timeout', async ({
	browser,
	page
}) => {
	test.setTimeout(180_000);
	const password = process.env.TRACEWALL_DEMO_PASSWORD ?? 'wall-demo-Tracewall';

	// A person who signs in and then does nothing: their session must time out meanwhile.
	const idleContext = await browser.newContext();
	const idlePage = await idleContext.newPage();
	await login(idlePage, 'operator', password);

	// The administrator registers a screen for the first line.
	await login(page, 'admin', password);
	await page.goto('/admin/devices');
	const firstLine = page.getByTestId('device-line').first();
	const lineCode = await firstLine.getAttribute('data-code');
	expect(lineCode).toBeTruthy();
	const screenName = `E2E screen ${Date.now()}`;
	await page.getByLabel('Name', { exact: true }).fill(screenName);
	await firstLine.getByRole('checkbox').check();
	await page.getByRole('button', { name: 'Register and show pairing code' }).click();
	const code = (await page.getByTestId('one-time-code').getByTestId('code').textContent())?.trim();
	expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
	const row = page.locator(`[data-testid="device-row"][data-name="${screenName}"]`);
	await expect(row).toHaveAttribute('data-status', 'pending');

	// The TV: a wrong code is refused clearly, the right one pairs and opens the wall.
	const tvContext = await browser.newContext();
	const tv = await tvContext.newPage();
	await tv.goto('/pair');
	const codeInput = tv.getByLabel('Pairing code');
	await codeInput.fill('AAAA-AAAA');
	await tv.getByRole('button', { name: 'Pair screen' }).click();
	await expect(tv.getByRole('alert')).toContainText('This code is not valid');
	await codeInput.fill(code?.toLowerCase() ?? '');
	await tv.getByRole('button', { name: 'Pair screen' }).click();
	await expect(tv).toHaveURL(new RegExp(`/wall/${lineCode}$`));

	// The administrator (whose own session idles out after 20 s) sees the screen paired, then
	// signs out.
	await page.reload();
	await expect(row).toHaveAttribute('data-status', 'paired');
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.goto('/admin/devices');
	await expect(page).toHaveURL(/\/login/);

	await expectLiveValues(tv);
	const cookies = await tvContext.cookies();
	const deviceCookie = cookies.find((c) => c.name.endsWith('tw_device'));
	expect(deviceCookie?.httpOnly).toBe(true);
	// Far in the future (years), not a session cookie.
	expect(deviceCookie?.expires ?? 0).toBeGreaterThan(Date.now() / 1000 + 300 * 24 * 3600);

	// Past the idle timeout: the idle person is signed out, the screen is still live.
	await tv.waitForTimeout(PAST_IDLE_MS);
	await idlePage.goto('/account');
	await expect(idlePage).toHaveURL(/\/login/);
	await expectLiveValues(tv);
	await tv.reload();
	await expect(tv).toHaveURL(new RegExp(`/wall/${lineCode}$`));
	await expectLiveValues(tv);

	await tvContext.close();
	await idleContext.close();
});
