/** Public API of lib/common: see README.md. */
export * from "./atomic";
export * from "./paths";
export * from "./progress";
export * from "./random";
export * from "./tensorboard";
