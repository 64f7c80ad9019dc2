/**
 * A spec-limit change end to end in the browser, on line L2's seal-strength characteristic: the
 * quality engineer raises it for the product of L2's planned lot and signs as author; the QA
 * reviewer approves with her signature and implements it, which creates a new process version.
 * The lot running on the sealer keeps the version it started under, so the wall keeps its spec;
 * when the shift hands the sealer to the planned lot, the wall (open all along) shows the new
 * spec and its process version without a reload, and the characteristic page says which lot
 * fixed it. Afterwards the sealer goes back to the lot that ran on it before.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { login } from '../auth/helpers';
import { endRunOn, startRunOn } from '../station';
import { shot, signInDialog } from './helpers';

const CHARACTERISTIC = 'SP1.SEAL.STR';
/** The sealer's name starts so on the station (its machine select and open-runs table). */
const SEALER = 'Pouch sealer';

async function signedIn(browser: Browser, username: string): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
	const page = await context.newPage();
	await login(page, username);
	return page;
}

/** Hand the sealer over: end its run; start a run of `lotCode` on it, checked. */
const endSealerRun = (page: Page) => endRunOn(page, 'L2', SEALER);
async function startSealerRun(page: Page, lotCode: string): Promise<void> {
	await expect(await startRunOn(page, 'L2', lotCode, SEALER)).toContainText('Run started');
	await expect(
		page.getByTestId('open-runs').locator('tbody tr', { hasText: SEALER })
	).toContainText(lotCode);
}

test.describe('change control of spec limits', () => {
	test('a new process version reaches the wall with the first lot started under it', async ({
		browser
	}, testInfo) => {
		// --- the planned lot on L2 and its product ---------------------------------------------
		const lead = await signedIn(browser, 'lead');
		await lead.goto('/station/L2');
		const planned = lead.locator('[data-testid="lot-card"][data-status="planned"]').first();
		const plannedLot = ((await planned.locator('.lot-code').textContent()) ?? '').trim();
		const product = ((await planned.locator('.sub').first().textContent()) ?? '')
			.split('·')[0]
			.trim();
		expect(plannedLot).not.toBe('');
		expect(product).toMatch(/^[A-Z]{2}-\d{4}-[A-Z]{2}$/);

		// --- the quality engineer raises the change and signs it --------------------------------
		const qe = await signedIn(browser, 'qe');
		await qe.goto('/changes/new?kind=spec-limit');
		const form = qe.getByTestId('new-change');
		const option = form.locator('select[name="characteristicId"] option', {
			hasText: CHARACTERISTIC
		});
		const characteristicId = (await option.getAttribute('value'))!;
		await form.locator('select[name="characteristicId"]').selectOption(characteristicId);
		const productOption = form.locator('select[name="productId"] option', { hasText: product });
		await form
			.locator('select[name="productId"]')
			.selectOption((await productOption.getAttribute('value'))!);
		// The form starts from the product's spec in force (its process version), not a default.
		await expect(form.getByTestId('spec-now')).toContainText('process version');
		await expect(form.getByTestId('spec-now')).toContainText('LSL 8 · target 12 · USL 18');
		await expect(form.locator('input[name=usl]')).toHaveValue('18');
		// Wider (8–18 → 7–19 N/15 mm): the running process stays inside, no alarm for other specs.
		await form.locator('input[name=title]').fill(`Seal strength window for ${product}`);
		await form
			.locator('textarea[name=justification]')
			.fill('Customer drawing revision D widens the seal-strength window after the peel study.');
		await form.locator('input[name=lsl]').fill('7');
		await form.locator('input[name=target]').fill('12');
		await form.locator('input[name=usl]').fill('19');
		await form.getByRole('button', { name: 'Create draft' }).click();
		await expect(qe).toHaveURL(/\/changes\/\d+$/);
		const changeUrl = new URL(qe.url()).pathname;
		const status = qe.getByTestId('change-status');
		await qe.getByRole('button', { name: 'Submit', exact: true }).click();
		await expect(status).toHaveText('Impact analysis');
		// The impact analysis lists the product and its open lots, the planned one among them.
		await expect(qe.getByTestId('impact')).toContainText(product);
		await expect(qe.getByTestId('impact')).toContainText(plannedLot);
		await qe.getByRole('button', { name: 'Send to review' }).click();
		await expect(status).toHaveText('Review');
		await signInDialog(qe, qe.getByRole('button', { name: 'Sign as author…' }), 'qe');

		// --- the wall of L2, open before the change is implemented ------------------------------
		const wall = await signedIn(browser, 'qa');
		await wall.goto('/wall/L2?charts=16&rotate=600');
		await expect(wall.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		const spec = wall
			.locator(`[data-testid="spc-chart"][data-code="${CHARACTERISTIC}"]`)
			.getByTestId('spec');
		await expect(spec).toContainText('spec 8.00–18.00');
		const versionBefore = Number(/ · v(\d+)$/.exec((await spec.textContent()) ?? '')?.[1]);
		expect(versionBefore).toBeGreaterThan(0);

		// --- the QA reviewer approves with her signature and implements -------------------------
		const qa = await wall.context().newPage();
		await qa.goto(changeUrl);
		await signInDialog(qa, qa.getByRole('button', { name: 'Approve and sign…' }), 'qa');
		await expect(qa.getByTestId('change-status')).toHaveText('Approved');
		await qa.getByRole('button', { name: 'Implement', exact: true }).click();
		await expect(qa.getByTestId('change-status')).toHaveText('Implemented');
		const result = qa.getByTestId('result');
		await expect(result).toContainText('for lots started from');
		const version = Number(/Process version (\d+)/.exec((await result.textContent()) ?? '')?.[1]);
		expect(version).toBeGreaterThan(0);
		await shot(testInfo, qa, 'spec-change-implemented', true);

		// The lot on the sealer keeps its version: the wall still shows the old spec.
		await wall.bringToFront();
		await expect(spec).toContainText('spec 8.00–18.00');
		await expect(spec).toHaveText(/ · v(\d+)$/);
		expect(await spec.textContent()).toMatch(new RegExp(` · v${versionBefore}$`));

		// --- the sealer is handed to the planned lot -------------------------------------------
		const previousLot = await endSealerRun(lead);
		const operator = await signedIn(browser, 'operator');
		await startSealerRun(operator, plannedLot);

		// The wall shows the new spec and its version, live.
		await wall.bringToFront();
		await expect(spec).toContainText('spec 7.00–19.00', { timeout: 20_000 });
		await expect(spec).toHaveText(new RegExp(`spec 7\\.00–19\\.00 · v${version}$`));
		await expect(spec).toHaveAttribute(
			'title',
			new RegExp(`process version ${version}, fixed on lot ${plannedLot}`)
		);
		await shot(testInfo, wall, 'wall-new-spec');
		// The characteristic page says which lot's process version is in force.
		await qe.goto(`/characteristics/${characteristicId}`);
		const inForce = qe.getByTestId('spec-in-force');
		await expect(inForce).toContainText('7.00');
		await expect(inForce).toContainText(
			`${product} process v${version}, fixed on lot ${plannedLot}`
		);
		await shot(testInfo, qe, 'characteristic-spec-in-force', true);

		// --- the sealer goes back to the lot it ran before --------------------------------------
		await endSealerRun(lead);
		await startSealerRun(operator, previousLot);
		await wall.bringToFront();
		await expect(spec).toContainText('spec 8.00–18.00', { timeout: 20_000 });
		for (const page of [lead, qe, wall, operator]) await page.context().close();
	});
});
