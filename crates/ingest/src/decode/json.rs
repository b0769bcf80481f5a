//! A bounded, iterative JSON structure scan run before parsing: it rejects
//! nesting deeper than the limit and objects with duplicate keys, using an
//! explicit stack so hostile input cannot exhaust the call stack.
//!
//! It checks structure (brackets, strings, commas, colons), not number or
//! literal grammar: `serde_json` parses the text afterwards and reports those.

use std::borrow::Cow;
use std::collections::HashSet;

/// Why the scan rejected the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// Nesting deeper than `limit`.
    TooDeep { limit: usize },
    /// An object repeats `key`.
    DuplicateKey { key: String },
    /// Not well-formed near byte `offset`.
    Malformed { offset: usize },
}

/// Objects with more keys than this get a hash set (lookups only) instead of
/// a linear scan, so a hostile object with many keys stays linear.
const SET_AT: usize = 16;

enum Frame<'a> {
    /// In an object whose keys start at `start` in the shared key stack; a
    /// large object also keeps them in `set`.
    Object {
        start: usize,
        set: Option<HashSet<Cow<'a, str>>>,
    },
    /// In an array.
    Array,
}

/// Records `k` for the innermost object; false when it was already there.
fn insert_key<'a>(keys: &mut Vec<Cow<'a, str>>, frame: &mut Frame<'a>, k: Cow<'a, str>) -> bool {
    let Frame::Object { start, set } = frame else {
        return true;
    };
    if let Some(set) = set {
        return set.insert(k);
    }
    if keys[*start..].contains(&k) {
        return false;
    }
    keys.push(k);
    if keys.len() - *start > SET_AT {
        *set = Some(keys.drain(*start..).collect());
    }
    true
}

/// Leaves the innermost container, dropping its keys.
fn pop<'a>(stack: &mut Vec<Frame<'a>>, keys: &mut Vec<Cow<'a, str>>) {
    if let Some(Frame::Object { start, .. }) = stack.pop() {
        keys.truncate(start);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (top level, after `:` or `[` or `,` in an array).
    Value,
    /// A value or `]` (right after `[`).
    ValueOrClose,
    /// A key or `}` (right after `{`).
    KeyOrClose,
    /// A key (after `,` in an object).
    Key,
    /// A `:` after a key.
    Colon,
    /// `,` or the closing bracket of the current container, or end of text.
    CommaOrClose,
}

/// Scans `text`. Depth counts containers: a top-level object is depth 1.
pub(crate) fn scan(text: &str, max_depth: usize) -> Result<(), ScanError> {
    let b = text.as_bytes();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    let mut expect = Expect::Value;
    let mut i = 0;
    let malformed = |offset| Err(ScanError::Malformed { offset });
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        }
        match expect {
            Expect::Colon => {
                if c != b':' {
                    return malformed(i);
                }
                expect = Expect::Value;
                i += 1;
            }
            Expect::CommaOrClose => {
                match (c, stack.last()) {
                    (b',', Some(Frame::Object { .. })) => expect = Expect::Key,
                    (b',', Some(Frame::Array)) => expect = Expect::Value,
                    (b'}', Some(Frame::Object { .. })) | (b']', Some(Frame::Array)) => {
                        pop(&mut stack, &mut keys);
                        expect = Expect::CommaOrClose;
                    }
                    _ => return malformed(i),
                }
                i += 1;
            }
            Expect::Key | Expect::KeyOrClose => {
                if c == b'}' && expect == Expect::KeyOrClose {
                    pop(&mut stack, &mut keys);
                    expect = Expect::CommaOrClose;
                    i += 1;
                } else if c != b'"' {
                    return malformed(i);
                } else {
                    let (end, escaped) =
                        string_end(b, i).ok_or(ScanError::Malformed { offset: i })?;
                    let raw = &text[i..end];
                    let key: Cow<'_, str> = if escaped {
                        match serde_json::from_str::<String>(raw) {
                            Ok(s) => Cow::Owned(s),
                            Err(_) => return malformed(i),
                        }
                    } else {
                        Cow::Borrowed(&raw[1..raw.len() - 1])
                    };
                    let Some(frame) = stack.last_mut() else {
                        return malformed(i);
                    };
                    if !insert_key(&mut keys, frame, key.clone()) {
                        return Err(ScanError::DuplicateKey {
                            key: key.chars().take(64).collect(),
                        });
                    }
                    expect = Expect::Colon;
                    i = end;
                }
            }
            Expect::Value | Expect::ValueOrClose => {
                match c {
                    b']' if expect == Expect::ValueOrClose => {
                        pop(&mut stack, &mut keys);
                        expect = Expect::CommaOrClose;
                        i += 1;
                    }
                    b'{' | b'[' => {
                        if stack.len() >= max_depth {
                            return Err(ScanError::TooDeep { limit: max_depth });
                        }
                        if c == b'{' {
                            stack.push(Frame::Object {
                                start: keys.len(),
                                set: None,
                            });
                            expect = Expect::KeyOrClose;
                        } else {
                            stack.push(Frame::Array);
                            expect = Expect::ValueOrClose;
                        }
                        i += 1;
                    }
                    b'"' => {
                        let (end, _) =
                            string_end(b, i).ok_or(ScanError::Malformed { offset: i })?;
                        i = end;
                        expect = Expect::CommaOrClose;
                    }
                    b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                        // a number or literal: its grammar is left to serde_json
                        while i < b.len()
                            && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'+' | b'.'))
                        {
                            i += 1;
                        }
                        expect = Expect::CommaOrClose;
                    }
                    _ => return malformed(i),
                }
            }
        }
        if stack.is_empty() && expect == Expect::CommaOrClose {
            // one complete top-level value: only whitespace may follow
            while i < b.len() {
                if !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
                    return malformed(i);
                }
                i += 1;
            }
            return Ok(());
        }
    }
    malformed(b.len())
}

/// The index just past the closing quote of the string opening at `start`,
/// and whether it holds escapes. `None` when unterminated.
fn string_end(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start + 1;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_json_passes() {
        for ok in [
            "{}",
            "[]",
            " {\"a\": [1, 2.5e3, -3, true, false, null, \"x\\\"y\"], \"b\": {\"c\": {}}} ",
            "\"text\"",
            "12",
            "[[], {}, [{}]]",
        ] {
            assert_eq!(scan(ok, 8), Ok(()), "{ok}");
            assert!(serde_json::from_str::<serde_json::Value>(ok).is_ok());
        }
    }

    #[test]
    fn depth_is_limited_without_recursion() {
        assert_eq!(scan("[[[]]]", 3), Ok(()));
        assert_eq!(scan("[[[[]]]]", 3), Err(ScanError::TooDeep { limit: 3 }));
        let hostile = "[".repeat(1_000_000);
        assert_eq!(scan(&hostile, 8), Err(ScanError::TooDeep { limit: 8 }));
        let objs = "{\"a\":".repeat(100);
        assert_eq!(scan(&objs, 8), Err(ScanError::TooDeep { limit: 8 }));
    }

    #[test]
    fn duplicate_keys_are_found_even_when_escaped_or_in_big_objects() {
        assert_eq!(
            scan("{\"a\":1,\"a\":2}", 8),
            Err(ScanError::DuplicateKey { key: "a".into() })
        );
        assert_eq!(
            scan("{\"a\":1,\"\\u0061\":2}", 8),
            Err(ScanError::DuplicateKey { key: "a".into() })
        );
        let mut big: Vec<String> = (0..100).map(|i| format!("\"k{i}\":{i}")).collect();
        assert_eq!(scan(&format!("{{{}}}", big.join(",")), 8), Ok(()));
        big.push("\"k42\":0".into());
        assert_eq!(
            scan(&format!("{{{}}}", big.join(",")), 8),
            Err(ScanError::DuplicateKey { key: "k42".into() })
        );
        // the same key in sibling objects is fine
        assert_eq!(scan("[{\"a\":1},{\"a\":2}]", 8), Ok(()));
    }

    #[test]
    fn malformed_structure_is_rejected() {
        for bad in [
            "",
            "{",
            "}",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "[1 2]",
            "{} {}",
            "\"open",
            "{1:2}",
            "[}",
            ",",
            "{\"a\":1]",
            "]",
        ] {
            assert!(
                matches!(scan(bad, 8), Err(ScanError::Malformed { .. })),
                "{bad:?}"
            );
        }
    }
}
