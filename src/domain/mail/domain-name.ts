/**
 * Domain names of addresses: syntax checks and IDN conversion to the ASCII
 * (A-label) form that a 7-bit message header must carry.
 */

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i
const ASCII = /^[\x00-\x7f]*$/
/** Characters that URL parsing would treat as structure rather than as part of a host. */
const NOT_IN_HOST = /[\s/?#%@:[\]\\<>"'^|`{}]/

/**
 * The ASCII form of a domain name (RFC 5890 A-labels for IDNs, via the WHATWG
 * URL host parser's UTS #46 processing), or `undefined` when the name is not a
 * valid internet host name: LDH labels of 1-63 octets, at most 253 octets, at
 * least two labels, and a top-level label that is not all digits.
 */
export function toAsciiDomain(domain: string): string | undefined {
  let ascii = domain
  if (!ASCII.test(domain)) {
    if (NOT_IN_HOST.test(domain)) return undefined
    try {
      ascii = new URL(`http://${domain}/`).hostname
    } catch {
      return undefined
    }
  }
  return isHostName(ascii) ? ascii : undefined
}

function isHostName(name: string): boolean {
  if (name.length > 253) return false
  const labels = name.split('.')
  if (labels.length < 2) return false
  for (const label of labels) if (!LDH_LABEL.test(label)) return false
  return !/^\d+$/.test(labels[labels.length - 1]!)
}
