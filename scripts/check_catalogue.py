#!/usr/bin/env python3
"""Checks the scenario catalogue without building the Rust loader.

Usage: python3 scripts/check_catalogue.py [scenarios-dir] [coverage-doc]

What it checks (the harness refuses scenarios that break the first four at run time):
  1. every POST to /Users or /Groups carries {{run.prefix}} in userName / displayName;
  2. PATCH/PUT/DELETE address /Users/{{capture}} or /Groups/{{capture}} where the capture was
     taken from a create earlier in the scenario, or an id made of {{uuid...}};
  3. every {{reference}} is a built-in, a scenario variable, or a capture of an EARLIER step;
  4. member values sent to /Groups are captured ids (or {{uuid...}} for not-found tests);
  plus: names unique and equal to the file stem, known dialects/sources/checks/predicates,
  unique step ids, behaviours of the form 11.N, and (with a coverage doc) that the doc lists
  every behaviour 11.1-11.58 and names only scenarios that exist.
Exit status 0 when clean, 1 with one line per problem otherwise.
"""

import json
import pathlib
import re
import sys

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
STEP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REF_RE = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")
BEHAVIOUR_RE = re.compile(r"^11\.([1-9]|[1-4][0-9]|5[0-8])$")
DIALECTS = {"default", "aadOptscim062020", "any"}
SOURCES = {"documented", "observed", "inferred"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
AREAS = {"connection", "users", "groups", "members", "manager", "lifecycle", "errors", "discovery",
         "pagination", "auth", "on-demand"}
CHECKS = {"scim.list-response", "scim.resource", "scim.error", "scim.content-type", "scim.location",
          "entra.empty-list", "entra.single-match", "entra.members-excluded", "entra.manager-complex",
          "entra.active-boolean", "entra.no-nulls"}
PREDICATES = {"equals", "exists", "absent", "matches", "one_of", "type", "length", "contains",
              "not_contains"}
TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}
TOP_KEYS = {"name", "summary", "description", "behaviours", "source", "dialect", "tags", "vars", "steps"}
STEP_KEYS = {"id", "note", "request", "expect", "capture", "no_snapshot"}
REQ_KEYS = {"method", "path", "query", "query_style", "headers", "auth", "body"}
EXPECT_KEYS = {"status", "status_impact", "checks", "json"}
BUILTINS = {"run.prefix", "run.base", "run.id", "uuid"}


def strings(value):
    """Every string in a JSON value, object keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)


def get_ci(obj, key):
    if not isinstance(obj, dict):
        return None
    for k, v in obj.items():
        if k.lower() == key.lower():
            return v
    return None


class Checker:
    def __init__(self):
        self.problems = []

    def bad(self, where, msg):
        self.problems.append(f"{where}: {msg}")

    def scenario(self, path, sc):
        where = str(path)
        if not isinstance(sc, dict):
            return self.bad(where, "not a JSON object")
        for k in sc:
            if k not in TOP_KEYS:
                self.bad(where, f"unknown key {k!r}")
        name = sc.get("name", "")
        if not NAME_RE.match(name):
            self.bad(where, f"bad name {name!r}")
        if name != path.stem:
            self.bad(where, f"name {name!r} differs from the file stem {path.stem!r}")
        if not sc.get("summary"):
            self.bad(where, "missing summary")
        if sc.get("dialect") not in DIALECTS:
            self.bad(where, f"bad dialect {sc.get('dialect')!r}")
        if sc.get("source", "documented") not in SOURCES:
            self.bad(where, f"bad source {sc.get('source')!r}")
        for b in sc.get("behaviours", []):
            if not BEHAVIOUR_RE.match(b):
                self.bad(where, f"bad behaviour {b!r}")
        tags = sc.get("tags", [])
        if not AREAS & set(tags):
            self.bad(where, "no area tag")
        if path.parent.name not in tags:
            self.bad(where, f"the directory {path.parent.name!r} is not among the tags")
        vars_ = sc.get("vars", {})
        for v in vars_:
            if not VAR_RE.match(v):
                self.bad(where, f"bad variable name {v!r}")
        steps = sc.get("steps")
        if not isinstance(steps, list) or not steps:
            return self.bad(where, "no steps")
        known = set(vars_)
        created = set()  # captures taken from a create
        ids = set()
        for i, st in enumerate(steps):
            sw = f"{where} step {st.get('id', i)}"
            self.step(sw, st, known, created, ids)

    def refs_ok(self, sw, value, known, what):
        for s in strings(value):
            for ref in REF_RE.findall(s):
                if ref in BUILTINS or ref.startswith("uuid."):
                    continue
                if ref.startswith("run."):
                    self.bad(sw, f"{what}: unknown built-in {{{{{ref}}}}}")
                elif ref not in known:
                    self.bad(sw, f"{what}: {{{{{ref}}}}} is not a variable or an earlier capture")

    def step(self, sw, st, known, created, ids):
        for k in st:
            if k not in STEP_KEYS:
                self.bad(sw, f"unknown key {k!r}")
        sid = st.get("id", "")
        if not STEP_RE.match(sid):
            self.bad(sw, f"bad step id {sid!r}")
        if sid in ids:
            self.bad(sw, "duplicate step id")
        ids.add(sid)
        req = st.get("request", {})
        for k in req:
            if k not in REQ_KEYS:
                self.bad(sw, f"unknown request key {k!r}")
        method = req.get("method")
        if method not in METHODS:
            self.bad(sw, f"bad method {method!r}")
        path = req.get("path", "")
        if not path.startswith("/") or "?" in path:
            self.bad(sw, f"bad path {path!r} (leading slash, no query)")
        self.refs_ok(sw, req, known, "request")
        if req.get("query_style", "entra") not in {"entra", "validator"}:
            self.bad(sw, "bad query_style")
        if req.get("auth", "token") not in {"token", "none", "invalid"}:
            self.bad(sw, "bad auth")
        q = req.get("query", {})
        if not isinstance(q, dict) or not all(isinstance(v, str) for v in q.values()):
            self.bad(sw, "query must be an object of strings")
        body = req.get("body")
        coll = path.strip("/").split("/")
        if method == "POST" and len(coll) == 1 and coll[0] in ("Users", "Groups"):
            key = "userName" if coll[0] == "Users" else "displayName"
            name = get_ci(body, key)
            if not isinstance(name, str) or "{{run.prefix}}" not in name:
                self.bad(sw, f"POST /{coll[0]} without {{{{run.prefix}}}} in {key}")
        if method in ("PATCH", "PUT", "DELETE"):
            m = re.fullmatch(r"/(Users|Groups)/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}", path)
            if not m:
                self.bad(sw, f"{method} {path} does not address one captured or generated id")
            elif not (m.group(2).startswith("uuid.") or m.group(2) == "uuid" or m.group(2) in created):
                self.bad(sw, f"{method} {path}: {m.group(2)} was not captured from a create")
        if method == "PATCH" and coll[0] == "Groups" and isinstance(body, dict):
            for o in body.get("Operations", []):
                if str(o.get("path", "")).lower() == "members" and isinstance(o.get("value"), list):
                    for mem in o["value"]:
                        v = mem.get("value", "")
                        if not re.fullmatch(r"\{\{[A-Za-z0-9_.]+\}\}", v):
                            self.bad(sw, f"member value {v!r} is not a captured or generated id")
        if method == "POST" and coll[0] == "Groups" and isinstance(body, dict):
            for mem in get_ci(body, "members") or []:
                v = mem.get("value", "")
                if not re.fullmatch(r"\{\{[A-Za-z0-9_.]+\}\}", v):
                    self.bad(sw, f"member value {v!r} is not a captured id")
        exp = st.get("expect", {})
        for k in exp:
            if k not in EXPECT_KEYS:
                self.bad(sw, f"unknown expect key {k!r}")
        status = exp.get("status", [])
        if isinstance(status, int):
            status = [status]
        if not all(isinstance(s, int) and 100 <= s <= 599 for s in status):
            self.bad(sw, f"bad status {status!r}")
        for c in exp.get("checks", []):
            name = c if isinstance(c, str) else c.get("name")
            if name not in CHECKS:
                self.bad(sw, f"unknown check {name!r}")
            if isinstance(c, dict) and c.get("severity", "fail") not in {"fail", "warn"}:
                self.bad(sw, "bad check severity")
        for j in exp.get("json", []):
            preds = [k for k in j if k in PREDICATES]
            extra = set(j) - PREDICATES - {"pointer", "severity", "impact"}
            if len(preds) != 1:
                self.bad(sw, f"assertion on {j.get('pointer')!r} needs exactly one predicate, has {preds}")
            if extra:
                self.bad(sw, f"assertion keys {sorted(extra)} unknown")
            if not str(j.get("pointer", "x")).startswith("/") and j.get("pointer") != "":
                self.bad(sw, f"bad pointer {j.get('pointer')!r}")
            if j.get("severity", "fail") not in {"fail", "warn"}:
                self.bad(sw, "bad assertion severity")
            if "type" in j and j["type"] not in TYPES:
                self.bad(sw, f"bad type {j['type']!r}")
            if not j.get("impact"):
                self.bad(sw, f"assertion on {j.get('pointer')!r} has no impact")
            if "matches" in j:
                try:
                    re.compile(j["matches"])
                except re.error as e:
                    self.bad(sw, f"bad regex: {e}")
        self.refs_ok(sw, exp, known, "expect")
        for name, src in st.get("capture", {}).items():
            if not VAR_RE.match(name):
                self.bad(sw, f"bad capture name {name!r}")
            if not (src.startswith("/") or src == "" or src.startswith("header:")):
                self.bad(sw, f"bad capture source {src!r}")
            known.add(name)
            if method == "POST":
                created.add(name)


def check_coverage(doc, names, problems):
    text = doc.read_text(encoding="utf-8")
    for n in range(1, 59):
        if not re.search(rf"^\|\s*{n}\s*\|", text, re.M):
            problems.append(f"{doc}: behaviour 11.{n} has no row")
    for ref in set(re.findall(r"`([a-z0-9][a-z0-9.-]*)`", text)):
        if ref.endswith((".md", ".json", ".rs")):
            continue
        if "-" in ref and ref not in names:
            problems.append(f"{doc}: names unknown scenario `{ref}`")


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "scenarios")
    checker = Checker()
    names = {}
    for path in sorted(root.rglob("*.json")):
        try:
            sc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            checker.bad(str(path), f"invalid JSON: {e}")
            continue
        checker.scenario(path, sc)
        name = sc.get("name") if isinstance(sc, dict) else None
        if name in names:
            checker.bad(str(path), f"name {name!r} also used by {names[name]}")
        names[name] = path
    if len(sys.argv) > 2:
        check_coverage(pathlib.Path(sys.argv[2]), set(names), checker.problems)
    for p in checker.problems:
        print(p)
    print(f"{len(names)} scenarios, {len(checker.problems)} problems", file=sys.stderr)
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
