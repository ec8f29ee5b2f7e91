export { main } from './main.js';
export { buildApp, type BuildResult, type Manifest, type ComponentInfo, type PackageCost } from './build/bundle.js';
export { findApp, type App } from './build/app.js';
export { UsageError } from './errors.js';
