/** The gateway, for tests, benchmarks and the local stack to start in-process. */
export { loadConfig, type GatewayConfig } from './config.js';
export { startGateway, type RunningGateway } from './start.js';
export { ROUTES, type Route } from './routes.js';
