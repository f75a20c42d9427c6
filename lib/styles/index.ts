/** Public API of lib/styles: see README.md. */
export * from "./styles";
