/** Client of the e2e test system's control endpoint (tests/e2e/serve.ts). */
function controlUrl(path: string): string {
	const port = process.env.E2E_CONTROL_PORT;
	if (!port)
		throw new Error('E2E_CONTROL_PORT is not set: run the tests through playwright.config.ts');
	return `http://127.0.0.1:${port}${path}`;
}

async function post(path: string): Promise<unknown> {
	const response = await fetch(controlUrl(path), {
		method: 'POST',
		signal: AbortSignal.timeout(150_000)
	});
	const body: unknown = await response.json();
	if (!response.ok) throw new Error(`${path} failed: ${JSON.stringify(body)}`);
	return body;
}

/** Stops the server process (SIGTERM); resolves once it has exited. */
export function stopServer(): Promise<unknown> {
	return post('/server/stop');
}

/** Starts the server process again; resolves once /api/health answers 200. */
export function startServer(): Promise<unknown> {
	return post('/server/start');
}

/** Replaces the simulator with a fresh one: its special-cause schedule starts again at 0. */
export function restartSimulator(): Promise<unknown> {
	return post('/simulator/restart');
}

/** Stops the simulator: the hub stays up, the line simply stops sending data. */
export function stopSimulator(): Promise<unknown> {
	return post('/simulator/stop');
}

/** Starts a simulator again after `stopSimulator`. */
export function startSimulator(): Promise<unknown> {
	return post('/simulator/start');
}
