import { expect, test } from './fixtures';

/**
 * Regenerates the README's screenshots of the wall with live data (not a test of behaviour):
 * `E2E_SCREENSHOTS=1 npx playwright test screenshots`. Skipped otherwise, so a test run never
 * rewrites files in docs/. E2E_SCREENSHOTS_WAIT_MS sets how much history the charts gather first
 * (the demo's X̄ charts plot a point a minute).
 */
test.describe('wall screenshots', () => {
	test.skip(!process.env.E2E_SCREENSHOTS, 'set E2E_SCREENSHOTS=1 to regenerate docs/wall-*.png');

	test('captures the wall at 1080p and 4K', async ({ page }) => {
		const waitMs = Number(process.env.E2E_SCREENSHOTS_WAIT_MS ?? 90_000);
		test.setTimeout(waitMs + 120_000);
		await page.setViewportSize({ width: 1920, height: 1080 });
		await page.goto('/wall/L1?rotate=3600');
		await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		await page.waitForTimeout(waitMs);
		await page.screenshot({ path: 'docs/wall-1080p.png' });
		// Same page, same data: the 4K layout is the 1080p one at twice the pixels.
		await page.setViewportSize({ width: 3840, height: 2160 });
		await page.waitForTimeout(3_000);
		await page.screenshot({ path: 'docs/wall-4k.png' });
	});
});
