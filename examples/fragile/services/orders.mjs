// The fragile shop's order logic, one function that grew with every ticket. The only test checks how a price is
// printed, so the rest has never run under a test: its coverage report (scripts/coverage.sh) says about 6 %.
export function formatPrice(cents) {
  return `${(cents / 100).toFixed(2)} EUR`;
}

export function processOrder(order, { stock, coupon, payments = [], now = Date.now(), refundCents = 0 }) {
  const VAT = { FR: 20, DE: 19, IT: 22, ES: 21, NL: 21, BE: 21, LU: 17 };
  const problems = [];
  if (!order || typeof order !== "object") throw new Error("the order is not an object");
  if (!Array.isArray(order.lines) || order.lines.length === 0) problems.push("the order has no line");
  for (const [i, line] of (order.lines ?? []).entries()) {
    if (typeof line.sku !== "string" || line.sku.length === 0) problems.push(`line ${i + 1} has no sku`);
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      problems.push(`line ${i + 1} needs a positive whole quantity`);
    }
    if (!Number.isInteger(line.unitCents) || line.unitCents < 0) {
      problems.push(`line ${i + 1} needs a price in cents`);
    }
  }
  const country = order.country ?? "FR";
  if (!/^[A-Z]{2}$/.test(country)) problems.push("country must be a two-letter code");
  if (problems.length > 0) return { ok: false, problems };

  // Pricing: subtotal, then the coupon.
  let gross = 0;
  for (const line of order.lines) gross += line.unitCents * line.quantity;
  let off = 0;
  if (coupon && !(coupon.expires && Date.parse(coupon.expires) < now)) {
    if (coupon.minimumCents && gross < coupon.minimumCents) {
      off = 0;
    } else if (coupon.kind === "percent") {
      off = Math.round((gross * coupon.value) / 100);
    } else if (coupon.kind === "fixed") {
      off = Math.min(coupon.value, gross);
    } else if (coupon.kind === "bulk") {
      for (const line of order.lines) {
        if (line.quantity >= coupon.fromQuantity) off += Math.round(line.unitCents * line.quantity * 0.1);
      }
    } else {
      return { ok: false, problems: [`unknown coupon kind ${coupon.kind}`] };
    }
  }
  const net = gross - off;
  const tax = country in VAT ? Math.round((net * VAT[country]) / 100) : 0;

  // Shipping by weight and destination; free from 100 EUR.
  const weight = order.lines.reduce((kg, line) => kg + (line.weightKg ?? 0.5) * line.quantity, 0);
  let shipping;
  if (gross >= 10_000) shipping = 0;
  else if (country === "FR") shipping = weight > 5 ? 1200 : 600;
  else if (country in VAT) shipping = weight > 5 ? 2400 : 1400;
  else shipping = weight > 5 ? 4500 : 2900;

  // Stock: all lines or none.
  const reserved = [];
  for (const line of order.lines) {
    const available = stock.get(line.sku) ?? 0;
    if (available < line.quantity) {
      for (const done of reserved) stock.set(done.sku, (stock.get(done.sku) ?? 0) + done.quantity);
      return { ok: false, problems: [`only ${available} of ${line.sku} in stock`] };
    }
    stock.set(line.sku, available - line.quantity);
    reserved.push({ sku: line.sku, quantity: line.quantity });
  }

  // Refunds against what was captured and not yet refunded, within 30 days.
  let refund = null;
  if (refundCents > 0) {
    const paid = payments.filter((p) => p.status === "captured").reduce((sum, p) => sum + p.cents, 0);
    const refunded = payments.filter((p) => p.status === "refunded").reduce((sum, p) => sum + p.cents, 0);
    const refundable = paid - refunded;
    const ageDays = (now - Date.parse(order.placedAt)) / 86_400_000;
    if (refundCents > refundable) {
      refund = {
        ok: false,
        reason: `only ${formatPrice(refundable)} of ${formatPrice(paid)} can be refunded`,
      };
    } else if (ageDays > 30) {
      refund = { ok: false, reason: "orders older than 30 days are refunded by support only" };
    } else {
      refund = { ok: true, cents: refundCents, remaining: refundable - refundCents };
    }
  }

  // Delivery estimate in business days.
  const days = country === "FR" ? 2 : country in VAT ? 4 : 9;
  const delivery = new Date(order.placedAt ?? now);
  for (let added = 0; added < days; ) {
    delivery.setUTCDate(delivery.getUTCDate() + 1);
    if (delivery.getUTCDay() !== 0 && delivery.getUTCDay() !== 6) added++;
  }

  // The invoice, as printed on the packing slip.
  const invoice = order.lines.map((l) => `${l.quantity} x ${l.sku} @ ${formatPrice(l.unitCents)}`);
  if (off > 0) invoice.push(`discount -${formatPrice(off)}`);
  invoice.push(`tax ${formatPrice(tax)}`, `shipping ${formatPrice(shipping)}`);
  invoice.push(`total ${formatPrice(net + tax + shipping)}`);

  // Status from the order's events: cancelled wins, returned after delivery, otherwise the furthest step.
  const steps = ["placed", "paid", "packed", "shipped", "delivered"];
  let status = "new";
  for (const event of order.events ?? []) {
    if (event.type === "cancelled") {
      status = "cancelled";
      break;
    }
    if (event.type === "returned") status = "returned";
    else if (steps.indexOf(event.type) > steps.indexOf(status)) status = event.type;
  }

  return {
    ok: true,
    net,
    tax,
    shipping,
    total: net + tax + shipping,
    reserved,
    refund,
    deliveryBy: delivery.toISOString().slice(0, 10),
    invoice,
    status,
  };
}
