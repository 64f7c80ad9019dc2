import { expect, test } from './fixtures';

test.describe('landing page', () => {
	test('lists the lines with their live state and links to their walls', async ({ page }) => {
		await page.goto('/');
		await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		const lines = page.getByTestId('line');
		// The demo plant has two lines (src/lib/demo/plant.ts).
		await expect(lines).toHaveCount(2);
		await expect(lines.first()).toContainText('Line 1');
		// Data flows from the simulator, so no line stays without data.
		await expect(lines.first()).not.toHaveAttribute('data-status', 'offline', { timeout: 30_000 });

		await lines.nth(1).getByRole('link').click();
		await expect(page).toHaveURL(/\/wall\/L2$/);
		await expect(page.getByTestId('line-name')).toContainText('Line 2');
		await expect(page.getByTestId('machine-tile').first()).toBeVisible();
	});
});
