export * from './client-frames.js';
export * from './close-codes.js';
export * from './decode.js';
export * from './error-codes.js';
export * from './events.js';
export * from './limits.js';
export * from './server-frames.js';
export * from './text.js';
