// libxl_uuid_from_string: 36 characters in the 8-4-4-4-12 hex layout (kept in lower case).
export function uuidFromString(s: string): string | null {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s) ? s.toLowerCase() : null;
}
