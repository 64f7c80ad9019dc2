/**
 * The wall page's own guard (src/routes/(live)/wall/[line]/+page.server.ts), as a screen
 * paired for the first line only: its line opens, another line is 403 (not merely an empty
 * wall whose socket refuses the rooms), an unknown line code is 404.
 */
import { expect, test } from '@playwright/test';
import { pairScreen } from '../api';

test('a one-line screen opens its wall, gets 403 on another line and 404 on an unknown one', async ({
	baseURL,
	playwright
}) => {
	if (!baseURL) throw new Error('baseURL is not configured');
	const cookie = await pairScreen(baseURL, 'E2E one-line screen', (ids) => ids.slice(0, 1));
	const screen = await playwright.request.newContext({
		baseURL,
		extraHTTPHeaders: { cookie },
		maxRedirects: 0
	});
	try {
		expect((await screen.get('/wall/L1')).status()).toBe(200);
		expect((await screen.get('/wall/L2')).status()).toBe(403);
		expect((await screen.get('/wall/NO-SUCH-LINE')).status()).toBe(404);
	} finally {
		await screen.dispose();
	}
});
