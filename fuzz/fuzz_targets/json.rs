//! The handler's JSON scanner (`ebhook_handler::json::scan`) against serde_json, on arbitrary
//! bytes: it must accept exactly what serde_json accepts when skipping a value, except nesting
//! deeper than `MAX_DEPTH`, and read the same top-level `type`, `id` and reserved key as
//! `serde_json::Value` does. On a CPU with the AVX2 fast path, that path must answer for exactly
//! the valid texts, with the scalar scanner's answer. And the string reader the runtime uses
//! for a function URL event's body reads strings exactly as serde_json does.
#![no_main]

use ebhook_handler::json::{
    MAX_DEPTH, Scanned, fast_path_available, fast_scan, scalar_scan, scan, string_member,
    unescape_string,
};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;

/// The deepest nesting of a text serde_json accepted, counted outside strings.
fn depth(text: &str) -> u32 {
    let (mut depth, mut max, mut in_string, mut escaped) = (0u32, 0u32, false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = scan(text, "ebhook");
    if fast_path_available() {
        let scalar = scalar_scan(text, "ebhook");
        match fast_scan(text, "ebhook") {
            Some(fast) => assert_eq!(Ok(fast), scalar, "{text:?}"),
            None => assert!(scalar.is_err(), "the fast path refused {text:?}"),
        }
    }
    let serde_ok = serde_json::from_str::<IgnoredAny>(text).is_ok();
    let expected = serde_ok && depth(text) <= MAX_DEPTH;
    assert_eq!(ours.is_ok(), expected, "{text:?}: {ours:?}");
    if let Ok(Scanned::Object(top)) = &ours
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
    {
        let get = |k: &str| value.get(k).and_then(|v| v.as_str());
        assert_eq!(top.event_type.as_deref(), get("type"), "{text:?}");
        assert_eq!(top.id.as_deref(), get("id"), "{text:?}");
        assert_eq!(top.has_reserved, value.get("ebhook").is_some(), "{text:?}");
    }
    if let Ok(Scanned::Other) = ours {
        assert!(
            !text
                .trim_start_matches([' ', '\n', '\t', '\r'])
                .starts_with('{')
        );
    }
    check_strings(text);
});

/// `unescape_string` reads a string token exactly as serde_json reads it into a `String`, and
/// refuses what serde_json refuses; `string_member` finds the top-level member serde_json
/// would read.
fn check_strings(text: &str) {
    let start = text.len() - text.trim_start_matches([' ', '\n', '\t', '\r']).len();
    let serde = serde_json::from_str::<String>(text);
    match unescape_string(text, start) {
        Some((ours, end)) => {
            assert_eq!(
                serde_json::from_str::<String>(&text[..end]).ok().as_ref(),
                Some(&ours),
                "{text:?}"
            );
            if text[end..].trim_matches([' ', '\n', '\t', '\r']).is_empty() {
                assert_eq!(serde.ok(), Some(ours), "{text:?}");
            }
        }
        None => assert!(serde.is_err(), "refused {text:?}, which serde_json reads"),
    }
    if let Some((span, body)) = string_member(text, "body") {
        let member = &text[span.clone()];
        assert_eq!(
            serde_json::from_str::<String>(member).ok(),
            Some(body.clone())
        );
        // Where the text is one object serde_json reads, its `body` is that string.
        if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) {
            assert_eq!(
                object.get("body").and_then(|v| v.as_str()),
                Some(body.as_str()),
                "{text:?}"
            );
        }
    }
}
