/**
 * IP addresses and CIDR ranges, for `TRUSTED_PROXIES` and the per-address
 * brute-force guard. Pure: no `node:` import, so the configuration can check
 * its entries and both runtimes share one reading.
 */

/** An address as 4 (IPv4) or 16 (IPv6) bytes; IPv4-mapped IPv6 is read as IPv4. */
export type IpBytes = number[]

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN))
  return bytes.every((byte) => byte <= 255) ? bytes : undefined
}

function parseIpv6(text: string): IpBytes | undefined {
  let head = text
  let tail: IpBytes = []
  // An embedded IPv4 at the end (::ffff:192.0.2.1).
  const lastColon = text.lastIndexOf(':')
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1))
    if (v4 === undefined) return undefined
    tail = v4
    head = `${text.slice(0, lastColon + 1)}0:0`
  }
  const halves = head.split('::')
  if (halves.length > 2) return undefined
  const groups = (half: string) => (half === '' ? [] : half.split(':'))
  const left = groups(halves[0]!)
  const right = halves.length === 2 ? groups(halves[1]!) : []
  const missing = 8 - left.length - right.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right]
  const bytes: IpBytes = []
  for (const group of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined
    const value = Number.parseInt(group, 16)
    bytes.push(value >> 8, value & 0xff)
  }
  if (tail.length === 4) bytes.splice(12, 4, ...tail)
  return bytes
}

/** Reads an IPv4 or IPv6 address (brackets and a zone id allowed); undefined when it is none. */
export function parseIp(text: string): IpBytes | undefined {
  const bare = text
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '')
  if (!bare.includes(':')) return parseIpv4(bare)
  const bytes = parseIpv6(bare)
  if (bytes === undefined) return undefined
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  return mapped ? bytes.slice(12) : bytes
}

export interface IpRange {
  bytes: IpBytes
  prefix: number
}

/** Reads `ADDRESS` or `ADDRESS/PREFIX`; undefined when it is neither. */
export function parseIpRange(text: string): IpRange | undefined {
  const [address, prefixText, ...rest] = text.trim().split('/')
  if (rest.length > 0 || address === undefined) return undefined
  const bytes = parseIp(address)
  if (bytes === undefined) return undefined
  const bits = bytes.length * 8
  if (prefixText === undefined) return { bytes, prefix: bits }
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined
  return { bytes, prefix: Number(prefixText) }
}

export function inRange(range: IpRange, address: IpBytes): boolean {
  if (range.bytes.length !== address.length) return false
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const take = Math.min(8, range.prefix - bit)
    const mask = (0xff << (8 - take)) & 0xff
    const index = bit / 8
    if ((range.bytes[index]! & mask) !== (address[index]! & mask)) return false
  }
  return true
}

/**
 * The key of an address in per-address counts: the IPv4 address, or the
 * /64 of an IPv6 one (one host usually holds a whole /64).
 */
export function addressKey(address: IpBytes): string {
  if (address.length === 4) return address.join('.')
  const groups: string[] = []
  for (let index = 0; index < 8; index += 2)
    groups.push(((address[index]! << 8) | address[index + 1]!).toString(16))
  return `${groups.join(':')}::/64`
}
