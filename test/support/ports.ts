/**
 * Media ports for tests: their own range, apart from the product's default (20000-29999, media-server/worker-pool.ts)
 * so a test never competes with a running instance on the same machine, and below Linux's ephemeral range
 * (32768-60999) so outgoing connections never take one. mediasoup picks a free port in the range and tries another
 * when one is taken, so parallel test files can share it.
 */
export const TEST_RTC_PORTS = { rtcMinPort: 30000, rtcMaxPort: 32767 } as const;

/** The same as environment variables for loadConfig() and runtime child processes. */
export const TEST_RTC_ENV = { IDV_RTC_MIN_PORT: String(TEST_RTC_PORTS.rtcMinPort), IDV_RTC_MAX_PORT: String(TEST_RTC_PORTS.rtcMaxPort) } as const;
