// monitoring.alertReceiver (validated by the spec schema): the loopback webhook Alertmanager routes to, and the labels
// that route a synthetic alert there.
import type { Spec } from "../../spec/schema.js";

export type AlertReceiverSpec = NonNullable<NonNullable<Spec["monitoring"]>["alertReceiver"]>;

export function readAlertReceiver(spec: Spec): AlertReceiverSpec | null {
  return spec.monitoring?.alertReceiver ?? null;
}
