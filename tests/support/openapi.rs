//! OpenAPI 3.0 contract checks for the Mender test double: is this request one the upstream
//! documents allow, and is this response one they declare?
//!
//! The documents are the unmodified upstream copies in tests/fixtures/mender/openapi/ (see its
//! README), parsed with serde-saphyr. No JSON-Schema crate is in the tree, so this validates the
//! subset those documents use: `type`, `properties`, `required`, `items`, `enum`, `$ref`
//! (same document, and relative files such as `./schemas.yaml#/...` and
//! `../common/responses.yaml#/...`), `allOf`/`oneOf`/`anyOf`, `nullable`,
//! `additionalProperties`, `minimum`/`maximum`, `pattern`, and `format: date-time`.
//! Everything else (`example`, `description`, `x-*`, other formats) is ignored.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// Statuses every route can answer although no operation declares them: 401 from the identity
/// middleware, 403 from RBAC, 429 from the rate limiter (mender-server
/// backend/pkg/rate/limit_http.go:181-190). Their bodies must still be an `Error`.
const GATEWAY_STATUSES: [u16; 3] = [401, 403, 429];
const ERROR_SCHEMA: &str = "common/schemas.yaml#/components/schemas/Error";

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mender/openapi")
}

/// The documents, parsed once per test binary.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load(&dir()))
}

pub struct Spec {
    /// Every document by its path under the openapi directory ("deployments/schemas.yaml").
    docs: HashMap<String, Value>,
    ops: Vec<Op>,
}

/// One operation: a method on a path template of one document.
#[derive(Debug, Clone)]
pub struct Op {
    pub doc: String,
    pub template: String,
    pub method: String,
    segs: Vec<Seg>,
    literals: usize,
}

#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Param(String),
}

/// A schema (or any node) and the document its relative `$ref`s resolve against.
#[derive(Clone, Copy)]
struct At<'a> {
    doc: &'a str,
    node: &'a Value,
}

const METHODS: [&str; 6] = ["get", "put", "post", "delete", "patch", "head"];

fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

fn parent(doc: &str) -> &str {
    doc.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

impl Spec {
    pub fn load(dir: &Path) -> Spec {
        let mut docs = HashMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    let v: Value = serde_saphyr::from_str(&text)
                        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                    let key = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    docs.insert(key, v);
                }
            }
        }
        let mut ops = Vec::new();
        for (doc, v) in &docs {
            let Some(paths) = v.get("paths").and_then(|p| p.as_object()) else {
                continue;
            };
            for (template, item) in paths {
                let segs: Vec<Seg> = template
                    .split('/')
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Seg::Param(name.to_string()),
                            None => Seg::Lit(s.to_string()),
                        },
                    )
                    .collect();
                let literals = segs.iter().filter(|s| matches!(s, Seg::Lit(_))).count();
                for m in METHODS {
                    if item.get(m).is_some() {
                        ops.push(Op {
                            doc: doc.clone(),
                            template: template.clone(),
                            method: m.to_string(),
                            segs: segs.clone(),
                            literals,
                        });
                    }
                }
            }
        }
        assert!(!ops.is_empty(), "no operation found in {}", dir.display());
        Spec { docs, ops }
    }

    fn resolve<'a>(&'a self, from: &str, r: &str) -> Result<At<'a>, String> {
        let (file, pointer) = r.split_once('#').unwrap_or((r, ""));
        let key = if file.is_empty() {
            from.to_string()
        } else {
            normalize(&format!("{}/{file}", parent(from)))
        };
        let (doc, v) = self
            .docs
            .get_key_value(&key)
            .ok_or_else(|| format!("$ref {r} from {from}: no document {key}"))?;
        let node = v
            .pointer(pointer)
            .ok_or_else(|| format!("$ref {r} from {from}: nothing at {pointer}"))?;
        Ok(At { doc, node })
    }

    /// Follow `$ref` until a node that is not one.
    fn deref<'a>(&'a self, mut at: At<'a>) -> Result<At<'a>, String> {
        for _ in 0..32 {
            match at.node.get("$ref").and_then(|r| r.as_str()) {
                Some(r) => at = self.resolve(at.doc, r)?,
                None => return Ok(at),
            }
        }
        Err("$ref chain too long".into())
    }

    /// The operation for `method` on a concrete `path`; the most literal template wins, as in
    /// the server's router (`.../deployments/releases` is not `.../deployments/{id}`).
    pub fn find_op(&self, method: &str, path: &str) -> Result<&Op, String> {
        let parts: Vec<&str> = path.split('/').collect();
        let matching: Vec<&Op> = self.ops.iter().filter(|o| o.matches(&parts)).collect();
        let Some(best) = matching.iter().map(|o| o.literals).max() else {
            return Err(format!("no path in the spec matches {path}"));
        };
        let m = method.to_ascii_lowercase();
        let best: Vec<&Op> = matching
            .into_iter()
            .filter(|o| o.literals == best)
            .collect();
        best.iter().find(|o| o.method == m).copied().ok_or_else(|| {
            let allowed: Vec<&str> = best.iter().map(|o| o.method.as_str()).collect();
            format!(
                "{} is not an operation of {} (the spec has: {})",
                method.to_uppercase(),
                best[0].template,
                allowed.join(", ")
            )
        })
    }

    fn op_node(&self, op: &Op) -> (At<'_>, At<'_>) {
        let (key, doc) = self.docs.get_key_value(&op.doc).expect("the op's document");
        let item = &doc["paths"][&op.template];
        let at = |node| At {
            doc: key.as_str(),
            node,
        };
        (at(item), at(&item[&op.method]))
    }

    /// The parameters of an operation (path-item ones included), `$ref`s resolved.
    fn params<'a>(&'a self, op: &Op) -> Result<Vec<At<'a>>, String> {
        let (item, node) = self.op_node(op);
        let mut out = Vec::new();
        for at in [item, node] {
            for p in at
                .node
                .get("parameters")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
            {
                out.push(self.deref(At {
                    doc: at.doc,
                    node: p,
                })?);
            }
        }
        Ok(out)
    }

    /// Check one request; the errors, empty when it follows the contract.
    pub fn check_request(
        &self,
        op: &Op,
        path: &str,
        query: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Vec<String> {
        let mut errs = Vec::new();
        let params = match self.params(op) {
            Ok(p) => p,
            Err(e) => return vec![e],
        };
        let param = |name: &str, loc: &str| {
            params
                .iter()
                .find(|p| p.node["name"] == name && p.node["in"] == loc)
                .copied()
        };
        // Path parameters.
        let parts: Vec<&str> = path.split('/').collect();
        for (seg, value) in op.segs.iter().zip(&parts) {
            if let Seg::Param(name) = seg {
                match param(name, "path") {
                    Some(p) => self.check_param(p, name, &[value.to_string()], &mut errs),
                    None => errs.push(format!("path parameter `{name}` is not declared")),
                }
            }
        }
        // Query parameters.
        let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            given
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
        for (name, values) in &given {
            match param(name, "query") {
                Some(p) => self.check_param(p, name, values, &mut errs),
                None => errs.push(format!("unknown query parameter `{name}`")),
            }
        }
        for p in &params {
            if p.node["in"] == "query"
                && p.node["required"] == true
                && !given.contains_key(p.node["name"].as_str().unwrap_or(""))
            {
                errs.push(format!(
                    "missing required query parameter `{}`",
                    p.node["name"]
                ));
            }
        }
        // Body.
        let (_, node) = self.op_node(op);
        match node.node.get("requestBody") {
            None if body.is_empty() => {}
            None => errs.push(format!(
                "a {}-byte body on an operation without requestBody",
                body.len()
            )),
            Some(rb) => match self.deref(At {
                doc: node.doc,
                node: rb,
            }) {
                Err(e) => errs.push(e),
                Ok(rb) if body.is_empty() => {
                    if rb.node["required"] == true {
                        errs.push("missing required request body".into());
                    }
                }
                Ok(rb) => self.check_content(rb, content_type, body, "request body", &mut errs),
            },
        }
        errs
    }

    fn check_param(&self, p: At<'_>, name: &str, values: &[String], errs: &mut Vec<String>) {
        let Some(schema) = p.node.get("schema") else {
            return;
        };
        let schema = match self.deref(At {
            doc: p.doc,
            node: schema,
        }) {
            Ok(s) => s,
            Err(e) => return errs.push(e),
        };
        let is_array = schema.node["type"] == "array";
        // A scalar given several times is allowed only where the spec says so in words
        // ("You can provide it multiple times", v2 deployments `id`/`name`): the server reads
        // every value there (api_deployments.go:1718-1719) and only the first elsewhere.
        let repeatable = p
            .node
            .get("description")
            .and_then(|d| d.as_str())
            .is_some_and(|d| d.contains("multiple times"));
        if values.len() > 1 && !is_array && !repeatable {
            errs.push(format!(
                "query parameter `{name}` given {} times",
                values.len()
            ));
        }
        let item_schema = if is_array {
            match schema.node.get("items") {
                Some(i) => At {
                    doc: schema.doc,
                    node: i,
                },
                None => return,
            }
        } else {
            schema
        };
        for raw in values {
            let v = coerce(self, item_schema, raw);
            let mut e = Vec::new();
            self.validate(item_schema, &v, &format!("parameter `{name}`"), &mut e);
            errs.extend(e);
        }
    }

    /// A body against the `content` of a request body or response.
    fn check_content(
        &self,
        at: At<'_>,
        content_type: Option<&str>,
        body: &[u8],
        what: &str,
        errs: &mut Vec<String>,
    ) {
        let content = at.node.get("content").and_then(|c| c.as_object());
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            if !body.is_empty() {
                errs.push(format!(
                    "{what}: {} bytes where the spec declares none",
                    body.len()
                ));
            }
            return;
        };
        let essence = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let Some(media) = content.get(&essence) else {
            let declared: Vec<&String> = content.keys().collect();
            errs.push(format!(
                "{what}: content type `{essence}` is not declared ({declared:?})"
            ));
            return;
        };
        let Some(schema) = media.get("schema") else {
            return;
        };
        let schema = At {
            doc: at.doc,
            node: schema,
        };
        let value = if essence.ends_with("json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => v,
                Err(e) => return errs.push(format!("{what}: not JSON: {e}")),
            }
        } else {
            match std::str::from_utf8(body) {
                Ok(t) => Value::String(t.to_string()),
                Err(_) => return errs.push(format!("{what}: not UTF-8 text")),
            }
        };
        self.validate(schema, &value, what, errs);
    }

    /// Check one response of `op`; the errors, empty when the spec declares it.
    pub fn check_response(
        &self,
        op: &Op,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Vec<String> {
        let mut errs = Vec::new();
        let header = |name: &str| {
            headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        let content_type = header("content-type").first().copied();
        let (_, node) = self.op_node(op);
        let responses = node.node.get("responses");
        let declared = responses.and_then(|r| {
            r.get(status.to_string())
                .or_else(|| r.get(format!("{}XX", status / 100)))
                .or_else(|| r.get("default"))
        });
        let Some(declared) = declared else {
            if GATEWAY_STATUSES.contains(&status) {
                match self.resolve("", ERROR_SCHEMA) {
                    Ok(schema) => match serde_json::from_slice::<Value>(body) {
                        Ok(v) => self.validate(schema, &v, &format!("{status} body"), &mut errs),
                        Err(e) => errs.push(format!("{status} body: not JSON: {e}")),
                    },
                    Err(e) => errs.push(e),
                }
                return errs;
            }
            let declared: Vec<&String> = responses
                .and_then(|r| r.as_object())
                .map(|r| r.keys().collect())
                .unwrap_or_default();
            return vec![format!(
                "status {status} is not declared (declared: {declared:?})"
            )];
        };
        let resp = match self.deref(At {
            doc: node.doc,
            node: declared,
        }) {
            Ok(r) => r,
            Err(e) => return vec![e],
        };
        self.check_content(
            resp,
            content_type,
            body,
            &format!("{status} body"),
            &mut errs,
        );
        // Declared headers, when present, must have the declared type (X-Total-Count: integer).
        for (name, def) in resp
            .node
            .get("headers")
            .and_then(|h| h.as_object())
            .into_iter()
            .flatten()
        {
            let Some(schema) = def.get("schema") else {
                continue;
            };
            let schema = At {
                doc: resp.doc,
                node: schema,
            };
            for v in header(name) {
                let value = coerce(self, schema, v);
                self.validate(schema, &value, &format!("header {name}"), &mut errs);
            }
        }
        errs
    }

    /// `value` against the schema at `at`; errors carry `path`.
    fn validate<'a>(&'a self, at: At<'a>, value: &Value, path: &str, errs: &mut Vec<String>) {
        let at = match self.deref(at) {
            Ok(a) => a,
            Err(e) => return errs.push(format!("{path}: {e}")),
        };
        let s = at.node;
        let sub = |node: &'a Value| At { doc: at.doc, node };
        if value.is_null() && s.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        for part in s
            .get("allOf")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            self.validate(sub(part), value, path, errs);
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            if let Some(alts) = s.get(key).and_then(|a| a.as_array()) {
                let results: Vec<Vec<String>> = alts
                    .iter()
                    .map(|alt| {
                        let mut e = Vec::new();
                        self.validate(sub(alt), value, path, &mut e);
                        e
                    })
                    .collect();
                let ok = results.iter().filter(|e| e.is_empty()).count();
                if ok == 0 || (exactly_one && ok > 1) {
                    errs.push(format!(
                        "{path}: {} alternatives of {key} match {}",
                        ok,
                        short(value)
                    ));
                }
            }
        }
        if let Some(allowed) = s.get("enum").and_then(|e| e.as_array())
            && !allowed.contains(value)
        {
            errs.push(format!(
                "{path}: {} is not one of {}",
                short(value),
                Value::Array(allowed.clone())
            ));
        }
        match s.get("type").and_then(|t| t.as_str()) {
            Some("object") if !value.is_object() => {
                return errs.push(format!("{path}: expected an object, got {}", short(value)));
            }
            Some("array") => match value.as_array() {
                None => {
                    return errs.push(format!("{path}: expected an array, got {}", short(value)));
                }
                Some(items) => {
                    if let Some(item) = s.get("items") {
                        for (i, v) in items.iter().enumerate() {
                            self.validate(sub(item), v, &format!("{path}[{i}]"), errs);
                        }
                    }
                }
            },
            Some("string") => match value.as_str() {
                None => {
                    return errs.push(format!("{path}: expected a string, got {}", short(value)));
                }
                Some(text) => {
                    if s.get("format").and_then(|f| f.as_str()) == Some("date-time")
                        && text.parse::<jiff::Timestamp>().is_err()
                    {
                        errs.push(format!("{path}: `{text}` is not an RFC 3339 date-time"));
                    }
                    if let Some(p) = s.get("pattern").and_then(|p| p.as_str())
                        && regex::Regex::new(p).is_ok_and(|re| !re.is_match(text))
                    {
                        errs.push(format!("{path}: `{text}` does not match {p}"));
                    }
                }
            },
            Some("integer") if !(value.is_i64() || value.is_u64()) => {
                return errs.push(format!("{path}: expected an integer, got {}", short(value)));
            }
            Some("number") if !value.is_number() => {
                return errs.push(format!("{path}: expected a number, got {}", short(value)));
            }
            Some("boolean") if !value.is_boolean() => {
                return errs.push(format!("{path}: expected a boolean, got {}", short(value)));
            }
            _ => {}
        }
        if let Some(n) = value.as_f64() {
            if let Some(max) = s.get("maximum").and_then(|m| m.as_f64())
                && n > max
            {
                errs.push(format!("{path}: {n} is above the maximum {max}"));
            }
            if let Some(min) = s.get("minimum").and_then(|m| m.as_f64())
                && n < min
            {
                errs.push(format!("{path}: {n} is below the minimum {min}"));
            }
        }
        if let Some(obj) = value.as_object() {
            let props = s.get("properties").and_then(|p| p.as_object());
            for name in s
                .get("required")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str()
                    && !obj.contains_key(name)
                {
                    errs.push(format!("{path}: missing required `{name}`"));
                }
            }
            for (k, v) in obj {
                let child = format!("{path}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => self.validate(sub(ps), v, &child, errs),
                    None => match s.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            errs.push(format!("{path}: property `{k}` is not allowed"))
                        }
                        Some(extra @ Value::Object(_)) => {
                            self.validate(sub(extra), v, &child, errs)
                        }
                        _ => {}
                    },
                }
            }
        }
    }
}

impl Op {
    fn matches(&self, parts: &[&str]) -> bool {
        self.segs.len() == parts.len()
            && self.segs.iter().zip(parts).all(|(s, p)| match s {
                Seg::Lit(l) => l == p,
                Seg::Param(_) => !p.is_empty(),
            })
    }
}

/// A query or header text as the JSON value its schema expects, so that `validate` can judge
/// it ("abc" for an integer stays a string and fails).
fn coerce(spec: &Spec, schema: At<'_>, raw: &str) -> Value {
    let ty = spec.deref(schema).ok().and_then(|s| {
        s.node
            .get("type")
            .and_then(|t| t.as_str())
            .map(String::from)
    });
    match ty.as_deref() {
        Some("integer") => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(raw.into())),
        Some("number") => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(raw.into())),
        Some("boolean") => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(raw.into()),
        },
        _ => Value::String(raw.into()),
    }
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > 80 {
        format!("{}…", t.chars().take(80).collect::<String>())
    } else {
        t
    }
}
