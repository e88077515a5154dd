#!/usr/bin/env python3
"""The JSON-Schema-Test-Suite through `ssemon validate`.

    schema_suite.py SSEMON [--suite ROOT] [--draft NAME] [--all] [--verbose]

By default: the copy Debian packages (json-schema-test-suite, drafts up to 7,
under /usr/share/json-schema-test-suite), draft7, and only the files and
cases whose keywords mean the same in draft 2020-12, which is what ssemon
implements (FILES below says which, SKIPPED why the others are left out).
Each case is one `ssemon validate` process: its schema in a temporary file,
every document of the suite's remotes/ registered at the URI the suite
serves it from (-r http://localhost:1234/NAME=FILE), all its tests' data as
NDJSON on stdin. Each verdict's "valid" is compared with the suite's.

Prints the figures per file and in all; exits 1 on any wrong answer or any
case ssemon refuses (a schema error), 0 when everything agrees, 77 (ctest's
skip) when the suite is not installed (scripts/deps installs it).

--all runs every file of the draft with nothing skipped (for a copy of the
official suite, e.g. --suite /tmp/jsts --draft draft2020-12, during
development: the figures docs/validate.md reports); it still exits 1 on a
disagreement, so read its figures rather than its status.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

DEBIAN_SUITE = "/usr/share/json-schema-test-suite"
REMOTE_BASE = "http://localhost:1234/"

# Draft 7's files whose meaning 2020-12 kept, each with the cases left out
# and why. A file not listed here is in SKIPPED.
FILES = {
    "additionalProperties.json": {},
    "allOf.json": {},
    "anyOf.json": {},
    "boolean_schema.json": {},
    "const.json": {},
    # 2020-12 adds minContains/maxContains; without them "contains" is
    # unchanged (at least one item matches).
    "contains.json": {},
    # 2020-12 keeps "default" an annotation, not checked against the type.
    "default.json": {},
    "enum.json": {},
    "exclusiveMaximum.json": {},
    "exclusiveMinimum.json": {},
    "if-then-else.json": {},
    "items.json": {
        "an array of schemas for items": "the array form of items is prefixItems in 2020-12",
        "items with boolean schemas": "the array form of items is prefixItems in 2020-12",
    },
    "maxItems.json": {},
    "maxLength.json": {},
    "maxProperties.json": {},
    "maximum.json": {},
    "minItems.json": {},
    "minLength.json": {},
    "minProperties.json": {},
    "minimum.json": {},
    "multipleOf.json": {},
    "not.json": {},
    "oneOf.json": {},
    "pattern.json": {},
    "patternProperties.json": {},
    "properties.json": {},
    "propertyNames.json": {},
    "ref.json": {
        "relative pointer ref to array": "it points into the array form of items (prefixItems in 2020-12)",
        "escaped pointer ref": "its targets sit under keywords no vocabulary defines (\"tilda~field\"), "
        "which ssemon refuses on purpose (a typo must not pass silently)",
        "ref overrides any sibling keywords": "draft 7 ignores the siblings of $ref, 2020-12 applies them",
        "remote ref, containing refs itself": "it refers to the draft-07 meta-schema by its http:// URI; "
        "ssemon never reads the network",
    },
    "refRemote.json": {},
    "required.json": {},
    "type.json": {},
    "uniqueItems.json": {},
}

# Draft 7's files left out entirely, and why.
SKIPPED = {
    "additionalItems.json": "additionalItems is gone in 2020-12 (prefixItems and items replace it)",
    "definitions.json": "it validates schemas against the draft-07 meta-schema, referred to by its "
    "http:// URI; ssemon never reads the network",
    "dependencies.json": "dependencies is split into dependentRequired and dependentSchemas in 2020-12",
    "optional": "formats are assertions in ssemon (docs/validate.md), and the "
    "pattern and format helpers test their own vectors",
}
# Why only draft7 of the Debian copy: its draft6 is draft7 without
# if/then/else (the same cases again), and draft4 and draft3 give keywords
# other meanings (boolean exclusiveMaximum, "id", "divisibleBy", ...).


def remotes_args(suite_root, draft):
    """-r URI=FILE for every document under remotes/ (subfolders too), but
    those of other drafts (the official suite keeps them in remotes/DRAFT/:
    all of them would be more documents than a schema may have)."""
    args = []
    base = os.path.join(suite_root, "remotes")
    for dirpath, dirnames, filenames in os.walk(base):
        if dirpath == base:
            dirnames[:] = [d for d in dirnames if not d.startswith("draft") or d == draft]
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".json"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, base)
            args += ["-r", REMOTE_BASE + rel + "=" + path]
    return args


def run_case(ssemon, remotes, case, tmp):
    """Returns (verdicts, status, stderr): verdicts a list of "valid" values
    in test order (None where no line came back)."""
    schema = os.path.join(tmp, "schema.json")
    with open(schema, "w", encoding="utf-8") as f:
        json.dump(case["schema"], f)
    lines = "".join(json.dumps(t["data"]) + "\n" for t in case["tests"])
    proc = subprocess.run(
        [ssemon, "validate", "-s", schema] + remotes + ["-d", "-"],
        input=lines.encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    verdicts = [None] * len(case["tests"])
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        out = json.loads(line)
        index = int(out["data"].split(":", 1)[1]) - 1
        if 0 <= index < len(verdicts):
            verdicts[index] = out
    return verdicts, proc.returncode, proc.stderr.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ssemon")
    ap.add_argument("--suite", default=DEBIAN_SUITE)
    ap.add_argument("--draft", default="draft7")
    ap.add_argument("--all", action="store_true", help="every file, nothing skipped")
    ap.add_argument("--verbose", action="store_true", help="every wrong answer and refusal")
    opt = ap.parse_args()

    tests_dir = os.path.join(opt.suite, "tests", opt.draft)
    if not os.path.isdir(tests_dir):
        print(f"schema_suite: SKIP: {tests_dir} not found (apt-get install json-schema-test-suite, "
              "which scripts/deps installs)", file=sys.stderr)
        return 77
    remotes = remotes_args(opt.suite, opt.draft)
    if opt.all:
        files = {name: {} for name in sorted(os.listdir(tests_dir)) if name.endswith(".json")}
    else:
        files = FILES
        for name, why in sorted(SKIPPED.items()):
            print(f"skip {name}: {why}")
    totals = {"pass": 0, "wrong": 0, "refused": 0, "skipped": 0}
    with tempfile.TemporaryDirectory(prefix="ssemon-schema-suite-") as tmp:
        for name, skip in files.items():
            with open(os.path.join(tests_dir, name), encoding="utf-8") as f:
                cases = json.load(f)
            counts = {"pass": 0, "wrong": 0, "refused": 0, "skipped": 0}
            for case in cases:
                desc = case["description"]
                if desc in skip:
                    counts["skipped"] += len(case["tests"])
                    print(f"  skip {name} / {desc}: {skip[desc]}")
                    continue
                verdicts, status, err = run_case(opt.ssemon, remotes, case, tmp)
                if status == 2:
                    counts["refused"] += len(case["tests"])
                    if opt.verbose or not opt.all:
                        print(f"  refused {name} / {desc}: {err.strip()}")
                    continue
                for test, got in zip(case["tests"], verdicts):
                    if got is not None and got["valid"] == test["valid"]:
                        counts["pass"] += 1
                        continue
                    counts["wrong"] += 1
                    if opt.verbose or not opt.all:
                        print(f"  wrong {name} / {desc} / {test['description']}: "
                              f"expected valid={test['valid']}, got {json.dumps(got)}")
            print(f"{name}: {counts['pass']} passed, {counts['wrong']} wrong, "
                  f"{counts['refused']} refused, {counts['skipped']} skipped")
            for k in totals:
                totals[k] += counts[k]
    print(f"{opt.draft}: {totals['pass']} passed, {totals['wrong']} wrong, "
          f"{totals['refused']} refused, {totals['skipped']} skipped")
    return 1 if totals["wrong"] or totals["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
