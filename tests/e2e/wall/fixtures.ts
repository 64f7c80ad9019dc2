/**
 * Wall specs run as a wall runs on the floor: on a paired screen (a device cookie), not a
 * person's session, so user idle timeouts never interfere. One screen per test run.
 */
import { test as base, expect } from '@playwright/test';
import { pairScreen } from '../api';

let screen: Promise<string> | undefined;

export const test = base.extend({
	context: async ({ context, baseURL }, use) => {
		if (!baseURL) throw new Error('baseURL is not configured');
		screen ??= pairScreen(baseURL, 'E2E wall screen');
		const cookie = await screen;
		const eq = cookie.indexOf('=');
		await context.addCookies([
			{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: baseURL }
		]);
		await use(context);
	}
});

export { expect };
