/** Form bodies with repeated fields (checkbox groups), which `formOf` folds to one value. */
import type { Context } from 'hono'

/** Every string field of a POST body, repeated names kept in order. */
export async function formFields(c: Context): Promise<Map<string, string[]>> {
  const fields = new Map<string, string[]>()
  const body = await c.req.parseBody({ all: true }).catch(() => ({}) as Record<string, unknown>)
  for (const [name, value] of Object.entries(body)) {
    const values = (Array.isArray(value) ? value : [value]).filter(
      (item): item is string => typeof item === 'string',
    )
    fields.set(name, values)
  }
  return fields
}

/** A comma- or line-separated list field, trimmed, empty items dropped. */
export function listField(form: Map<string, string[]>, name: string): string[] {
  return (form.get(name) ?? [])
    .flatMap((value) => value.split(/[,\n]/))
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
}
