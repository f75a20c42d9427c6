/** Public API of lib/styles: see README.md. */
export * from "./figures";
export * from "./styles";
