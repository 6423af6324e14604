// JSON merge patches (RFC 7396), as the API takes them: the settings form (config.js) and the
// GCBM files' editor (configfiles.js) send what changed as one.

export const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** `value` without its null members (an object as a merge patch creates it). */
function withoutNulls(value) {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

/** The JSON merge patch (RFC 7396) turning `before` into `after` (a null in `after` removes
 * the key: a merge patch cannot set a null). */
export function mergePatch(before, after) {
  if (!isObject(before) || !isObject(after)) return withoutNulls(after ?? null);
  const patch = {};
  for (const key of Object.keys(before)) {
    if ((after[key] ?? null) === null && before[key] != null) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === null || same(before[key], value)) continue;
    patch[key] = mergePatch(before[key], value);
  }
  return patch;
}

/** RFC 7396: `patch` applied to `target` (a null removes its key). */
export function applyMergePatch(target, patch) {
  if (!isObject(patch)) return patch;
  const result = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
