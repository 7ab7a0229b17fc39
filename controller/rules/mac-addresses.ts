import { invalid } from './errors.js';

export interface MacRange {
  from: string;
  to: string;
}

/** The most addresses one pool may span; more would only make allocation slower. */
export const maxPoolAddresses = 2 ** 24;

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function parseMac(text: string, where: string): number {
  const mac = text.trim().toLowerCase();
  if (!macPattern.test(mac)) throw invalid(`${where} "${text}" is not a MAC address like 56:6f:1a:2b:00:01`);
  return parseInt(mac.replaceAll(':', ''), 16);
}

export function formatMac(value: number): string {
  return value.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** A MAC address a NIC may use: unicast (the first octet's lowest bit clear) and not all zeros. */
export function checkUnicast(value: number, where: string): void {
  if (value === 0 || Math.floor(value / 2 ** 40) % 2 === 1) throw invalid(`${where} ${formatMac(value)} is not a unicast address`);
}

export function checkRanges(ranges: MacRange[]): MacRange[] {
  if (ranges.length === 0) throw invalid('mac_pool.ranges needs at least one range');
  let total = 0;
  const normalized = ranges.map((range, index) => {
    const from = parseMac(range.from, `mac_pool.ranges.range[${index}].from`);
    const to = parseMac(range.to, `mac_pool.ranges.range[${index}].to`);
    if (to < from) throw invalid(`mac_pool.ranges.range[${index}] ends before it starts`);
    checkUnicast(from, `mac_pool.ranges.range[${index}].from`);
    total += to - from + 1;
    return { from: formatMac(from), to: formatMac(to) };
  });
  if (total > maxPoolAddresses) throw invalid(`mac_pool.ranges span ${total} addresses; at most ${maxPoolAddresses} are allowed`);
  return normalized;
}

export function rangesOf(pool: { ranges: string }): MacRange[] {
  return JSON.parse(pool.ranges) as MacRange[];
}
