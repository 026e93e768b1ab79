/** RFC 5322 §3.3 date-time, always in UTC. */
import { ServiceError } from '../errors.ts'

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `Tue, 01 Jul 2025 09:05:00 +0000`. */
export function formatMailDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new ServiceError('INTERNAL', 'The message date is not a valid date')
  const two = (value: number): string => String(value).padStart(2, '0')
  return (
    `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  )
}
