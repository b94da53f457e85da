"""Validates custom resources (kinds kubernetes-validate has no schema for) against the
openAPIV3Schema of the CRDs in deploy/crds, strictly: a field the schema does not declare is an
error, as kubectl's server-side field validation would report it.

usage: validate-custom-resources.py CRD_DIR MANIFEST...
Exits 1 if an object fails or has no CRD here; prints one line per object."""
import copy
import pathlib
import sys

import jsonschema
import yaml


def strict(schema):
    """Mimics structural-schema pruning as an error: objects with `properties` and no
    additionalProperties / preserve-unknown-fields reject unknown keys."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        if schema.get("x-kubernetes-int-or-string"):
            schema.pop("type", None)
            schema.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
        return schema
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def load_crds(crd_dir):
    schemas = {}
    for path in sorted(pathlib.Path(crd_dir).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                # apiVersion/kind/metadata are checked by the API server itself.
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                schemas[(f"{group}/{version['name']}", kind)] = strict(schema)
    return schemas


def main():
    crd_dir, *files = sys.argv[1:]
    schemas = load_crds(crd_dir)
    failed = 0
    for name in files:
        for obj in yaml.safe_load_all(pathlib.Path(name).read_text()):
            if not obj:
                continue
            key = (obj.get("apiVersion"), obj.get("kind"))
            ident = f"{name}: {key[1]}/{obj.get('metadata', {}).get('name')}"
            schema = schemas.get(key)
            if schema is None:
                print(f"FAIL {ident}: no schema for {key[0]} {key[1]} in {crd_dir}")
                failed += 1
                continue
            errors = sorted(
                jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path)
            )
            for e in errors:
                print(f"FAIL {ident}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
            failed += bool(errors)
            if not errors:
                print(f"ok   {ident}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
