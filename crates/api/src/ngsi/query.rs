//! The NGSI-LD query language (`q=`), ETSI GS CIM 009 §4.9: a parser and an
//! evaluator over an entity in key-value form.
//!
//! Supported: comparisons `== != > >= < <=`, pattern match `~=` and `!~=`
//! (regular expressions), ranges `a==1..5`, value lists `a==1,2,3`,
//! attribute existence (`a`), attribute paths (`a.b`, `a[b]`), `;` (AND),
//! `|` (OR) with AND binding tighter, and parentheses. Values are numbers,
//! quoted strings, `true`/`false`, or bare words compared as strings
//! (ISO 8601 date-times compare correctly as strings).

use serde_json::Value;

/// A parsed query.
#[derive(Debug, Clone)]
pub enum Query {
    /// All must hold.
    And(Vec<Query>),
    /// One must hold.
    Or(Vec<Query>),
    /// One term.
    Term(Term),
}

/// One comparison.
#[derive(Debug, Clone)]
pub struct Term {
    /// Attribute path, e.g. `["address", "city"]`.
    pub path: Vec<String>,
    /// Operator and operand; `None` tests that the attribute exists.
    pub op: Option<(Op, Operand)>,
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `~=`
    Match,
    /// `!~=`
    NotMatch,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    /// One value.
    Value(Lit),
    /// `a..b` (inclusive).
    Range(Lit, Lit),
    /// `a,b,c`.
    List(Vec<Lit>),
    /// A compiled regular expression.
    Regex(regex::Regex),
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// Number.
    Num(f64),
    /// String (quoted or bare).
    Str(String),
    /// Boolean.
    Bool(bool),
}

/// Why a query does not parse. The message names the position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid q at character {pos}: {msg}")]
pub struct QueryError {
    /// Character offset.
    pub pos: usize,
    /// What is wrong.
    pub msg: String,
}

/// Longest query text accepted.
pub const MAX_QUERY_LEN: usize = 4096;
const MAX_DEPTH: usize = 16;

/// Parses a `q` expression.
pub fn parse(q: &str) -> Result<Query, QueryError> {
    if q.len() > MAX_QUERY_LEN {
        return Err(QueryError {
            pos: MAX_QUERY_LEN,
            msg: format!("longer than {MAX_QUERY_LEN} characters"),
        });
    }
    let mut p = Parser {
        s: q.as_bytes(),
        i: 0,
        depth: 0,
    };
    let query = p.or()?;
    if p.i != p.s.len() {
        return Err(p.err("unexpected trailing input"));
    }
    Ok(query)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> QueryError {
        QueryError {
            pos: self.i,
            msg: msg.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.atom()?];
        while self.peek() == Some(b';') {
            self.i += 1;
            parts.push(self.atom()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Query::And(parts)
        })
    }

    fn atom(&mut self) -> Result<Query, QueryError> {
        if self.peek() == Some(b'(') {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.err("parentheses nested too deeply"));
            }
            self.i += 1;
            let q = self.or()?;
            if self.peek() != Some(b')') {
                return Err(self.err("expected ')'"));
            }
            self.i += 1;
            self.depth -= 1;
            return Ok(q);
        }
        self.term().map(Query::Term)
    }

    fn term(&mut self) -> Result<Term, QueryError> {
        let path = self.attr_path()?;
        let op = match (
            self.peek(),
            self.s.get(self.i + 1).copied(),
            self.s.get(self.i + 2).copied(),
        ) {
            (Some(b'='), Some(b'='), _) => Some((Op::Eq, 2)),
            (Some(b'!'), Some(b'='), _) => Some((Op::Ne, 2)),
            (Some(b'>'), Some(b'='), _) => Some((Op::Ge, 2)),
            (Some(b'<'), Some(b'='), _) => Some((Op::Le, 2)),
            (Some(b'>'), _, _) => Some((Op::Gt, 1)),
            (Some(b'<'), _, _) => Some((Op::Lt, 1)),
            (Some(b'~'), Some(b'='), _) => Some((Op::Match, 2)),
            (Some(b'!'), Some(b'~'), Some(b'=')) => Some((Op::NotMatch, 3)),
            _ => None,
        };
        let Some((op, len)) = op else {
            return Ok(Term { path, op: None });
        };
        self.i += len;
        let operand = if matches!(op, Op::Match | Op::NotMatch) {
            let start = self.i;
            let text = self.raw_value()?;
            let re = regex::RegexBuilder::new(&text)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| QueryError {
                    pos: start,
                    msg: format!("bad regular expression: {e}"),
                })?;
            Operand::Regex(re)
        } else {
            let first = self.literal()?;
            if self.s[self.i..].starts_with(b"..") {
                self.i += 2;
                let second = self.literal()?;
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(self.err("a range needs == or !="));
                }
                Operand::Range(first, second)
            } else if self.peek() == Some(b',') {
                let mut items = vec![first];
                while self.peek() == Some(b',') {
                    self.i += 1;
                    items.push(self.literal()?);
                }
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(self.err("a value list needs == or !="));
                }
                Operand::List(items)
            } else {
                Operand::Value(first)
            }
        };
        Ok(Term {
            path,
            op: Some((op, operand)),
        })
    }

    fn attr_path(&mut self) -> Result<Vec<String>, QueryError> {
        let mut path = Vec::new();
        let name = self.name()?;
        path.push(name);
        loop {
            match self.peek() {
                Some(b'.') if self.s.get(self.i + 1) != Some(&b'.') => {
                    self.i += 1;
                    path.push(self.name()?);
                }
                Some(b'[') => {
                    self.i += 1;
                    path.push(self.name()?);
                    if self.peek() != Some(b']') {
                        return Err(self.err("expected ']'"));
                    }
                    self.i += 1;
                }
                _ => break,
            }
        }
        Ok(path)
    }

    fn name(&mut self) -> Result<String, QueryError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'@' | b'-') {
                self.i += 1;
            } else {
                break;
            }
        }
        if self.i == start {
            return Err(self.err("expected an attribute name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A value up to the next `;`, `|` or `)` (regular expressions).
    fn raw_value(&mut self) -> Result<String, QueryError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b';' | b'|' | b')') {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err("expected a value"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn quoted(&mut self) -> Result<String, QueryError> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let Some(n) = self.peek() else { break };
                    self.i += 1;
                    out.push(n);
                }
                _ => out.push(c),
            }
        }
        Err(self.err("unterminated string"))
    }

    fn literal(&mut self) -> Result<Lit, QueryError> {
        if self.peek() == Some(b'"') {
            return self.quoted().map(Lit::Str);
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b';' | b'|' | b')' | b',') || self.s[self.i..].starts_with(b"..") {
                break;
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(self.err("expected a value"));
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        Ok(match text.as_str() {
            "true" => Lit::Bool(true),
            "false" => Lit::Bool(false),
            t => t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map_or(Lit::Str(text), Lit::Num),
        })
    }
}

impl Query {
    /// Whether `entity` (key-value form: attribute -> plain value) satisfies the query.
    pub fn matches(&self, entity: &serde_json::Map<String, Value>) -> bool {
        match self {
            Query::And(qs) => qs.iter().all(|q| q.matches(entity)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(entity)),
            Query::Term(t) => t.matches(entity),
        }
    }

    /// Every attribute name the query mentions (first path element).
    pub fn attributes(&self) -> Vec<&str> {
        match self {
            Query::And(qs) | Query::Or(qs) => qs.iter().flat_map(Query::attributes).collect(),
            Query::Term(t) => vec![t.path[0].as_str()],
        }
    }
}

impl Term {
    fn matches(&self, entity: &serde_json::Map<String, Value>) -> bool {
        let mut v = entity.get(&self.path[0]);
        for p in &self.path[1..] {
            v = v.and_then(|x| x.get(p));
        }
        let Some(v) = v else {
            // a missing attribute satisfies nothing, not even `!=`
            return false;
        };
        let Some((op, operand)) = &self.op else {
            return true;
        };
        match v {
            Value::Array(items) => {
                let any = items.iter().any(|x| compare(x, *op, operand));
                // `!=` on an array: no element equals
                if *op == Op::Ne {
                    items.iter().all(|x| compare(x, Op::Ne, operand))
                } else {
                    any
                }
            }
            _ => compare(v, *op, operand),
        }
    }
}

fn compare(v: &Value, op: Op, operand: &Operand) -> bool {
    match operand {
        Operand::Regex(re) => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (op == Op::Match) == re.is_match(&s)
        }
        Operand::Value(l) => {
            cmp_lit(v, l).is_some_and(|o| match op {
                Op::Eq => o.is_eq(),
                Op::Ne => o.is_ne(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Match | Op::NotMatch => false,
            }) || (op == Op::Ne && cmp_lit(v, l).is_none())
        }
        Operand::Range(a, b) => {
            let inside = cmp_lit(v, a).is_some_and(|o| o.is_ge())
                && cmp_lit(v, b).is_some_and(|o| o.is_le());
            if op == Op::Eq { inside } else { !inside }
        }
        Operand::List(items) => {
            let any = items
                .iter()
                .any(|l| cmp_lit(v, l).is_some_and(std::cmp::Ordering::is_eq));
            if op == Op::Eq { any } else { !any }
        }
    }
}

/// Orders a JSON value against a literal of the same type; `None` when the types differ.
fn cmp_lit(v: &Value, l: &Lit) -> Option<std::cmp::Ordering> {
    match (v, l) {
        (Value::Number(n), Lit::Num(x)) => n.as_f64()?.partial_cmp(x),
        (Value::String(s), Lit::Str(x)) => Some(s.as_str().cmp(x.as_str())),
        (Value::String(s), Lit::Num(x)) => s.parse::<f64>().ok()?.partial_cmp(x),
        (Value::Bool(b), Lit::Bool(x)) => Some(b.cmp(x)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ent(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn m(q: &str, e: &Value) -> bool {
        parse(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .matches(&ent(e.clone()))
    }

    #[test]
    fn comparisons_follow_the_spec_examples() {
        let e = json!({"speed": 42.5, "name": "Mannerheimintie", "lanes": 2, "signalised": true,
                       "address": {"city": "Helsinki"}, "tags": ["bus", "tram"], "observedAt": "2026-01-01T10:00:00Z"});
        assert!(m("speed>40", &e));
        assert!(!m("speed>=50", &e));
        assert!(m("lanes==2", &e));
        assert!(m("lanes==1..3", &e));
        assert!(!m("lanes==3..4", &e));
        assert!(m("lanes==1,2,4", &e));
        assert!(m("lanes!=1,3", &e));
        assert!(m("name==\"Mannerheimintie\"", &e));
        assert!(m("name==Mannerheimintie", &e));
        assert!(m("name~=^Manner", &e));
        assert!(m("name!~=^Esplanadi", &e));
        assert!(m("signalised==true", &e));
        assert!(m("address.city==Helsinki", &e));
        assert!(m("address[city]==Helsinki", &e));
        assert!(m("tags==tram", &e));
        assert!(!m("tags!=tram", &e));
        assert!(m("observedAt>2025-12-31T00:00:00Z", &e));
        assert!(m("speed", &e));
        assert!(!m("missing", &e));
        assert!(!m("missing!=3", &e));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let e = json!({"a": 1, "b": 2, "c": 3});
        assert!(m("a==1;b==2", &e));
        assert!(!m("a==1;b==3", &e));
        assert!(m("a==9|b==2", &e));
        assert!(m("a==9;b==9|c==3", &e)); // (a && b) || c
        assert!(!m("a==9;(b==9|c==3)", &e));
        assert!(m("(a==1|a==2);(c==3)", &e));
    }

    #[test]
    fn bad_queries_name_the_position() {
        for (q, pos) in [
            ("", 0),
            ("a==", 3),
            ("(a==1", 5),
            ("a==1)", 4),
            ("a>1..2", 6),
            ("a~=(", 3),
            ("==1", 0),
        ] {
            let e = parse(q).expect_err(q);
            assert_eq!(e.pos, pos, "{q}: {e}");
        }
        assert!(parse(&"(".repeat(40)).is_err());
        assert!(parse(&"a".repeat(MAX_QUERY_LEN + 1)).is_err());
    }
}
