// Hook-time validation of parent specs with the CRD schemas (defence in depth: an old CRD, or an
// object stored before a schema change, still gets a clear condition instead of a crash).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';

// strictTypes is off for Kubernetes' int-or-string idiom (`anyOf` integer/string plus a `pattern`).
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
ajv.addVocabulary([
  'x-kubernetes-map-type',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string',
]);
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });

export type Validation<T> = { ok: true; value: T } | { ok: false; message: string };

function describe(errors: ErrorObject[] | null | undefined, root: string): string {
  return (errors ?? [])
    .map((e) => {
      const path = `${root}${e.instancePath.replaceAll('/', '.')}`;
      if (e.keyword === 'required') return `${path}.${String(e.params['missingProperty'])} is required`;
      if (e.keyword === 'additionalProperties') return `${path}.${String(e.params['additionalProperty'])} is not a known field`;
      return `${path} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** A validator for one schema; the message names the offending fields under `root`. */
export function validator<T>(schema: TSchema, root: string): (value: unknown) => Validation<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value) => (validate(value) ? { ok: true, value: value as T } : { ok: false, message: describe(validate.errors, root) });
}
