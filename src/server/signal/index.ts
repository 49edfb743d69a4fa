/** The Signal endpoint of the reference server (Node only). */
export { SignalEndpoint, SIGNAL_PATH } from './endpoint.js';
export { type SignalServerOptions, signalServerDefaults } from './options.js';
export { SIGNAL_ERRORS, SIGNAL_CLOSE, type SignalErrorCode } from './codes.js';
export type { SignalServer, SignalClientInfo, SignalContext, SignalHandler, PublishOptions } from './api.js';
