/** Public API of lib/report: see README.md. */
export * from "./charts";
export * from "./conclusions";
export * from "./display";
export * from "./evaluation-file";
export * from "./images";
export * from "./references";
export * from "./tables";
export * from "./threshold-explorer";
export * from "./threshold-analysis";
export * from "./training";
