// Run by the housekeeping CronJob: POST /v1/housekeeping with the bearer token and print the
// summary. Exits non-zero when the call fails, so the Job shows it.
const url = `${process.env['BACKSNAP_URL'] ?? 'http://backsnap-ts.backsnap'}/v1/housekeeping`;
const token = process.env['BACKSNAP_HOUSEKEEPING_TOKEN'] ?? '';
const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(120_000) });
const body = await response.text();
process.stdout.write(`${body}\n`);
if (!response.ok) {
  process.stderr.write(`housekeeping failed: HTTP ${response.status}\n`);
  process.exit(1);
}
