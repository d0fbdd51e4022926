/**
 * Imported first by settings.ts, before express or Node-RED create an app: express's last-resort handler prints a
 * stack trace with file paths unless NODE_ENV is "production", and it reads the variable when an app is created. The
 * embedded runtime is always a deployment (demo mode is a product mode, not a development build), so it runs as
 * production unless the operator set NODE_ENV themselves. Our own error handlers never show a stack either way.
 */
export const nodeEnvWasSet = Boolean(process.env.NODE_ENV);
if (!process.env.NODE_ENV) process.env.NODE_ENV = 'production';
