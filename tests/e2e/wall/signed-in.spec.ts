/**
 * A person (not a paired screen) watching a wall: anonymous visitors are sent to sign in and
 * come back to the wall; the wall is live on the person's session; when that session idles
 * out (TRACEWALL_SESSION_IDLE_SECONDS=20 in tests/e2e/serve.ts) the open socket alone does not
 * keep it alive — the hub disconnects it, the reconnect is refused, and the page sends the
 * browser back to sign in, on its way to the same wall. Screens that must outlive the idle
 * timeout are paired devices (tests/e2e/auth/pairing.spec.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { login } from '../auth/helpers';

/** Idle timeout (20 s) plus the hub's session check (every 5 s) plus slack. */
const PAST_IDLE_MS = 45_000;

async function tileValues(page: Page): Promise<string[]> {
	return page
		.getByTestId('tile-value')
		.evaluateAll((rows) =>
			rows.map((row) => row.querySelector('[data-testid="value"]')?.textContent?.trim() ?? '')
		);
}

test('an operator signs in on the way to a wall, watches it live, and signs in again after idling out', async ({
	page
}) => {
	test.setTimeout(120_000);
	await page.goto('/wall/L1');
	await expect(page).toHaveURL(/\/login\?next=%2Fwall%2FL1$/);
	await login(page, 'operator', undefined, '/wall/L1');
	await expect(page).toHaveURL(/\/wall\/L1$/);
	await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
	await expect.poll(async () => (await tileValues(page)).some((v) => /\d/.test(v))).toBe(true);

	// Nothing but the socket from here on: the session idles out while the wall is open (a
	// renewal by the socket would keep the browser here until the timeout fails the test).
	await expect(page).toHaveURL(/\/login\?next=%2Fwall%2FL1$/, { timeout: PAST_IDLE_MS });

	await login(page, 'operator', undefined, '/wall/L1');
	await expect(page).toHaveURL(/\/wall\/L1$/);
	await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
});
