/** What every redacted secret becomes. */
export const REDACTED = "[REDACTED]";
