/** Public API of lib/tf: see README.md. */
export * from "./backend";
export * from "./profile";
export * from "./worker-threads";
