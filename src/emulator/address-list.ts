/**
 * The addr-specs of an RFC 5322 address-list header (§3.4): display names,
 * comments and group names dropped, groups flattened.
 */
export function parseAddressList(value: string): string[] {
  const addresses: string[] = []
  let text = ''
  let angle: string | undefined
  let inAngle = false
  let inQuote = false
  let commentDepth = 0
  const finish = (): void => {
    const address = (angle ?? text).trim()
    if (address.includes('@')) addresses.push(address)
    text = ''
    angle = undefined
  }
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!
    if (inQuote) {
      if (char === '\\') text += value[++i] ?? ''
      else {
        if (char === '"') inQuote = false
        text += char
      }
    } else if (commentDepth > 0) {
      if (char === '\\') i++
      else if (char === '(') commentDepth++
      else if (char === ')') commentDepth--
    } else if (inAngle) {
      if (char === '>') inAngle = false
      else angle += char
    } else if (char === '"') {
      inQuote = true
      text += char
    } else if (char === '(') commentDepth = 1
    else if (char === '<') {
      inAngle = true
      angle = ''
    } else if (char === ',' || char === ';') finish()
    else if (char === ':')
      text = '' // a group's display name
    else text += char
  }
  finish()
  return addresses
}
