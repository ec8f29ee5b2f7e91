export * from './cpu.js';
export * from './errors.js';
export * from './services.js';
export * from './component.js';
export * from './keys.js';
