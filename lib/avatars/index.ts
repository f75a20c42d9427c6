/** Public API of lib/avatars: see README.md. */
export * from "./avatar-render";
export * from "./avatars";
export * from "./figures";
