/**
 * A control-limit change end to end in the browser: the quality engineer raises a change request
 * from the characteristic page, submits it through impact analysis and review and signs it as
 * author; the QA reviewer approves it with her own signature and implements it; the wall of the
 * line, open all along, then draws the new limits without a reload.
 *
 * The wall draws its charts on canvas, so an init script records the text each canvas draws
 * (fillText, reset when the canvas is cleared): the test reads the UCL label the chart really
 * shows, not a value from the page's data.
 */
import { expect, test, type Locator } from '@playwright/test';
import { login } from '../auth/helpers';
import { shot, signInDialog } from './helpers';

/** The demo plant's second characteristic (line L1, first page of the wall). */
const CHARACTERISTIC_ID = 2;

/** Record the text every canvas draws since it was last cleared whole. */
function recordCanvasText(): void {
	type Tracked = HTMLCanvasElement & { __texts?: string[] };
	const proto = CanvasRenderingContext2D.prototype;
	const fillText = proto.fillText;
	const clearRect = proto.clearRect;
	proto.fillText = function (
		this: CanvasRenderingContext2D,
		text: string,
		...rest: [number, number]
	) {
		const canvas = this.canvas as Tracked;
		(canvas.__texts ??= []).push(String(text));
		return fillText.call(this, text, ...rest);
	};
	proto.clearRect = function (
		this: CanvasRenderingContext2D,
		x: number,
		y: number,
		w: number,
		h: number
	) {
		const canvas = this.canvas as Tracked;
		if (x <= 0 && y <= 0 && w >= canvas.width && h >= canvas.height) canvas.__texts = [];
		return clearRect.call(this, x, y, w, h);
	};
}

/** The UCL label drawn on a wall chart now: its value and half its last digit (null until drawn). */
async function drawnUclLabel(chart: Locator): Promise<{ value: number; tolerance: number } | null> {
	const texts = await chart
		.locator('canvas')
		.evaluateAll((canvases) =>
			canvases.flatMap((c) => (c as HTMLCanvasElement & { __texts?: string[] }).__texts ?? [])
		);
	const label = texts.find((t) => /^UCL\s/.test(t));
	if (!label) return null;
	const number = label.replace(/^UCL\s+/, '').replace(/[^\d.+-]/g, '');
	const decimals = number.includes('.') ? number.split('.')[1].length : 0;
	return { value: Number(number), tolerance: 0.5 * 10 ** -decimals + 1e-9 };
}

async function drawnUcl(chart: Locator): Promise<number | null> {
	return (await drawnUclLabel(chart))?.value ?? null;
}

test.describe('change control of control limits', () => {
	test('raised, signed by two people, implemented and drawn on the wall', async ({
		browser
	}, testInfo) => {
		// --- the quality engineer raises and signs the change --------------------------------
		const qeContext = await browser.newContext();
		const qe = await qeContext.newPage();
		await login(qe, 'qe');
		await qe.goto(`/characteristics/${CHARACTERISTIC_ID}`);
		const code = ((await qe.locator('h1 .code').textContent()) ?? '').trim();
		expect(code).not.toBe('');
		await qe.getByRole('link', { name: 'Raise change request' }).click();
		await expect(qe).toHaveURL(/\/changes\/new\?characteristic=/);
		const form = qe.getByTestId('new-change');
		const centreNow = Number(await form.locator('input[name=centre]').inputValue());
		const sigma = Number(await form.locator('input[name=sigma]').inputValue());
		expect(sigma).toBeGreaterThan(0);
		// Wider limits (sigma × 1.5, same centre): a visible change that keeps the running
		// process in control, so no alarm of this test disturbs the other wall specs.
		const centre = centreNow;
		const newSigma = Number((sigma * 1.5).toPrecision(6));
		await form.locator('input[name=title]').fill(`Widen the limits of ${code}`);
		await form
			.locator('textarea[name=justification]')
			.fill('The process mean moved after the planned maintenance; limits recalculated.');
		await form.locator('input[name=sigma]').fill(String(newSigma));
		await form.locator('input[name=source]').fill('baseline of 25 subgroups after maintenance');
		await form.getByRole('button', { name: 'Create draft' }).click();
		await expect(qe).toHaveURL(/\/changes\/\d+$/);
		const changeUrl = new URL(qe.url()).pathname;
		const status = qe.getByTestId('change-status');
		await expect(status).toHaveText('Draft');
		const proposedUcl = Number(await qe.getByTestId('proposed-ucl').textContent());
		expect(proposedUcl).toBeGreaterThan(centre);

		await qe.getByRole('button', { name: 'Submit', exact: true }).click();
		await expect(status).toHaveText('Impact analysis');
		await expect(qe.getByTestId('impact')).toContainText(code);
		await qe.getByRole('button', { name: 'Send to review' }).click();
		await expect(status).toHaveText('Review');
		await signInDialog(qe, qe.getByRole('button', { name: 'Sign as author…' }), 'qe');
		const authored = qe.getByTestId('signature').filter({ hasText: 'Authored' });
		await expect(authored).toContainText('Quinn Engineer');
		await expect(authored).toContainText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
		await expect(authored).toContainText('Valid for revision');
		// The author is never offered the approval.
		await expect(qe.getByRole('button', { name: 'Approve and sign…' })).toHaveCount(0);

		// --- the wall of the line, open before the change takes effect ------------------------
		const qaContext = await browser.newContext();
		await qaContext.addInitScript(recordCanvasText);
		const wall = await qaContext.newPage();
		await login(wall, 'qa');
		await wall.goto('/wall/L1?charts=16&rotate=600');
		await expect(wall.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		const chart = wall.locator(`[data-testid="spc-chart"][data-code="${code}"]`);
		await expect(chart).toBeVisible();
		await expect.poll(() => drawnUcl(chart)).not.toBeNull();
		const before = (await drawnUclLabel(chart))!;
		const uclBefore = before.value;
		// The old and the new UCL print differently at the wall's precision.
		expect(Math.abs(uclBefore - proposedUcl)).toBeGreaterThan(2 * before.tolerance);

		// --- the QA reviewer approves with her signature and implements -----------------------
		const qa = await qaContext.newPage();
		await qa.goto(changeUrl);
		await expect(qa.getByTestId('change-status')).toHaveText('Review');
		await signInDialog(qa, qa.getByRole('button', { name: 'Approve and sign…' }), 'qa');
		await expect(qa.getByTestId('change-status')).toHaveText('Approved');
		const approved = qa.getByTestId('signature').filter({ hasText: 'Approved' });
		await expect(approved).toContainText('Rita Reviewer');
		await expect(approved).toContainText('Valid for revision');
		await qa.getByRole('button', { name: 'Implement', exact: true }).click();
		await expect(qa.getByTestId('change-status')).toHaveText('Implemented');
		await expect(qa.getByTestId('result')).toContainText('Control limits version');
		await shot(testInfo, qa, 'change-request-implemented', true);

		// --- the wall draws the new limits, live ---------------------------------------------
		await wall.bringToFront();
		await expect
			.poll(async () => Math.abs(((await drawnUcl(chart)) ?? uclBefore) - proposedUcl), {
				timeout: 20_000
			})
			.toBeLessThanOrEqual(before.tolerance);
		await shot(testInfo, wall, 'wall-new-limits');

		// The author closes the change after checking it on the line.
		await qe.goto(changeUrl);
		await qe
			.locator('form[action="?/close"] input[name=reason]')
			.fill('New limits seen on the wall.');
		await qe.locator('form[action="?/close"]').getByRole('button').click();
		await expect(qe.getByTestId('change-status')).toHaveText('Closed');
		await shot(testInfo, qe, 'change-request-closed', true);
		// The list finds it by status and kind; the characteristic lists it beside its versions.
		await qe.goto('/changes?status=closed&kind=control-limit');
		await expect(qe.getByTestId('change-row').first()).toBeVisible();
		await expect(qe.getByTestId('change-list')).toContainText(code);
		await shot(testInfo, qe, 'change-list');
		await qe.goto(`/characteristics/${CHARACTERISTIC_ID}`);
		await expect(qe.getByTestId('characteristic-changes')).toContainText('Closed');
		await expect(qe.locator('.chip.active').first()).toBeVisible();
		await shot(testInfo, qe, 'characteristic-page', true);
		await qeContext.close();
		await qaContext.close();
	});
});
