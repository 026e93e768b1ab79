/**
 * Epoch milliseconds in SQL text: the service speaks JavaScript numbers,
 * the tables `timestamptz` (microseconds, so values round-trip to the ms).
 */

/** A timestamptz column or expression as epoch ms (`float8`). */
export const epochMs = (expression: string): string => `(extract(epoch FROM ${expression}) * 1000)::float8`

/** A parameter holding epoch ms as a timestamptz. */
export const fromEpochMs = (param: string): string => `to_timestamp(${param}::float8 / 1000)`

/** A parameter holding a number of ms as an interval. */
export const msInterval = (param: string): string => `(${param}::float8 * interval '1 millisecond')`
