/**
 * Fills a catalog message: `{name}` takes the parameter's value; `{name|one|other}` picks the singular form when the
 * parameter is exactly 1 (English counts: "1 image", "2 images"; Japanese messages need no such form).
 */
export function formatMessage(message: string, params?: Record<string, string | number>): string {
  if (!params) return message;
  let s = message.replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (whole, name: string, one: string, other: string) =>
    name in params ? (Number(params[name]) === 1 ? one : other) : whole,
  );
  for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
