/**
 * A short, readable name for a session's browser ("Chrome 156 on Windows"), so a person can
 * tell their sessions apart; the full User-Agent stays in the row's tooltip. Only the common
 * families are named: anything else shows as "Unknown browser", never a guess.
 */
const BROWSERS: [RegExp, string][] = [
	[/Edg\/(\d+)/, 'Edge'],
	[/OPR\/(\d+)/, 'Opera'],
	[/Firefox\/(\d+)/, 'Firefox'],
	[/(?:Chrome|Chromium|CriOS)\/(\d+)/, 'Chrome'],
	[/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, 'Safari']
];
const SYSTEMS: [RegExp, string][] = [
	[/Android/, 'Android'],
	[/iPhone|iPad|iPod/, 'iOS'],
	[/Windows/, 'Windows'],
	[/Mac OS X|Macintosh/, 'macOS'],
	[/CrOS/, 'ChromeOS'],
	[/Linux/, 'Linux']
];

export function describeUserAgent(userAgent: string | null): string {
	if (!userAgent) return 'Unknown browser';
	let browser = 'Unknown browser';
	for (const [pattern, name] of BROWSERS) {
		const match = pattern.exec(userAgent);
		if (match) {
			browser = `${name} ${match[1]}`;
			break;
		}
	}
	const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
	return system ? `${browser} on ${system}` : browser;
}
