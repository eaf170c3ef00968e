// The fragile shop's whole test suite: one test, of how a price is printed. Run by scripts/coverage.sh.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPrice } from "./orders.mjs";

test("prices print in euros", () => {
  assert.equal(formatPrice(1999), "19.99 EUR");
});
