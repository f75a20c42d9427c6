/** Public API of lib/report: see README.md. */
export * from "./charts";
export * from "./display";
export * from "./threshold-explorer";
