/** The notify service: agencies, subscriptions, per-agency feeds, webhooks, e-mail, acknowledgements. */
export { loadConfig, type NotifyConfig } from './config.js';
export { startNotify, VERSION, type RunningNotify } from './start.js';
export { feedsStream } from './adapters/nats/feeds.js';
