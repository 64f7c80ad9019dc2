/** Signing in and out through the real pages, for every spec that needs a person. */
import { expect, type Page } from '@playwright/test';

/** The demo users' password (src/lib/server/auth/users.ts; tests/e2e/serve.ts passes it on). */
export const DEMO_PASSWORD = process.env.TRACEWALL_DEMO_PASSWORD ?? 'wall-demo-Tracewall';

/**
 * Signs in on /login (optionally on its way to `next`) and waits until the browser has left
 * the sign-in page. Demo users: admin, operator, lead, qe, qa, manager, customer.
 */
export async function login(
	page: Page,
	username: string,
	password: string = DEMO_PASSWORD,
	next?: string
): Promise<void> {
	await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).not.toHaveURL(/\/login(\?|$)/);
}

/** Signs out through the header's button. */
export async function logout(page: Page): Promise<void> {
	await page.getByRole('button', { name: 'Sign out', exact: true }).click();
	await expect(page).toHaveURL(/\/login$/);
}
